#pragma once
// Fonts and text of the figures: one family everywhere, sizes in pixels, token pieces made printable.
#include <QtCore/QString>
#include <QtGui/QFont>

#include <string>

namespace attnscope::figure {

// The layout every figure shares, in logical pixels.
inline constexpr double kFontPx = 11.0;  // labels and ticks
inline constexpr double kTitlePx = 13.0; // titles
inline constexpr double kGap = 8.0;      // between parts of a figure
inline constexpr double kBarPx = 16.0;   // colour-bar width

void ensureFigureFonts();                       // the QGuiApplication that QFont needs (ensureFigureApplication())
QFont figureFont(double px, bool bold = false); // DejaVu Sans (embedded in PDF/PNG as drawn), pixel size px
// A token piece as a label: control characters and newlines escaped (\n, \t, \xNN), empty shown as ∅.
std::string printablePiece(const std::string& piece);
double labelWidth(const QFont& font, const std::string& text, double maxPx); // px, at most maxPx
QString elided(const QFont& font, const std::string& text, double maxPx);    // cut with … to fit maxPx

} // namespace attnscope::figure

#pragma once
// Fonts and text of the figures: one family everywhere, sizes in pixels, token pieces made printable.
#include <QtCore/QString>
#include <QtGui/QFont>

#include <string>

namespace attnscope::figure {

void ensureFigureFonts();                       // the QGuiApplication that QFont needs (ensureFigureApplication())
QFont figureFont(double px, bool bold = false); // DejaVu Sans (embedded in PDF/PNG as drawn), pixel size px
// A token piece as a label: control characters and newlines escaped (\n, \t, \xNN), empty shown as ∅.
std::string printablePiece(const std::string& piece);
double labelWidth(const QFont& font, const std::string& text, double maxPx); // px, at most maxPx
QString elided(const QFont& font, const std::string& text, double maxPx);    // cut with … to fit maxPx

} // namespace attnscope::figure

#include "figure_text.hpp"

#include "figure_writer.hpp"

#include <QtGui/QFontMetricsF>

#include <algorithm>
#include <cstdio>

namespace attnscope::figure {

void ensureFigureFonts() {
    ensureFigureApplication();
}

QFont figureFont(double px, bool bold) {
    ensureFigureApplication();
    QFont font(QStringLiteral("DejaVu Sans"));
    font.setPixelSize(std::max(1, int(px + 0.5)));
    font.setBold(bold);
    font.setHintingPreference(QFont::PreferNoHinting); // the same glyph shapes in PNG, SVG and PDF
    return font;
}

std::string printablePiece(const std::string& piece) {
    std::string out;
    for (unsigned char c : piece) {
        if (c == '\n')
            out += "\\n";
        else if (c == '\t')
            out += "\\t";
        else if (c == '\r')
            out += "\\r";
        else if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02X", c);
            out += buf;
        } else
            out += char(c);
    }
    return out.empty() ? "\u2205" : out;
}

double labelWidth(const QFont& font, const std::string& text, double maxPx) {
    return std::min(maxPx, QFontMetricsF(font).horizontalAdvance(QString::fromStdString(text)));
}

QString elided(const QFont& font, const std::string& text, double maxPx) {
    return QFontMetricsF(font).elidedText(QString::fromStdString(text), Qt::ElideRight, maxPx);
}

} // namespace attnscope::figure

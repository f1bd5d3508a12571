#include "figure_colour_bar.hpp"

#include <QtGui/QImage>
#include <QtGui/QPainter>

namespace attnscope::figure {

void drawColourGradient(QPainter& p, views::Colormap colormap, const QRectF& rect) {
    QImage bar(1, 256, QImage::Format_RGB32);
    for (int y = 0; y < 256; ++y) {
        const auto c = views::colormapRgb8(colormap, float(255 - y) / 255.0f);
        bar.setPixel(0, y, qRgb(c[0], c[1], c[2]));
    }
    p.save();
    p.setRenderHint(QPainter::SmoothPixmapTransform, false);
    p.drawImage(rect, bar);
    p.restore();
    p.drawRect(rect);
}

} // namespace attnscope::figure

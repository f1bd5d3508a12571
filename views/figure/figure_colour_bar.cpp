#include "figure_colour_bar.hpp"

#include <QtGui/QImage>
#include <QtGui/QPainter>

namespace attnscope::figure {

namespace {

template <typename Colour> void drawGradient(QPainter& p, const QRectF& rect, Colour colour) {
    QImage bar(1, 256, QImage::Format_RGB32);
    for (int y = 0; y < 256; ++y) {
        const auto c = colour(double(255 - y) / 255.0);
        bar.setPixel(0, y, qRgb(c[0], c[1], c[2]));
    }
    p.save();
    p.setRenderHint(QPainter::SmoothPixmapTransform, false);
    p.drawImage(rect, bar);
    p.restore();
    p.drawRect(rect);
}

} // namespace

void drawColourGradient(QPainter& p, views::Colormap colormap, const QRectF& rect) {
    drawGradient(p, rect, [&](double t) { return views::colormapRgb8(colormap, float(t)); });
}

void drawDivergingGradient(QPainter& p, const QRectF& rect) {
    drawGradient(p, rect, [](double t) { return views::divergingRgb8(t); });
}

} // namespace attnscope::figure

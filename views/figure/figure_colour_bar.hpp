#pragma once
// The colour bar's gradient, shared by every figure: the colormap (or the diverging map of differences) from 1 (top)
// to 0 (bottom), filling `rect` without smoothing, with a frame.
#include "colormap_path.hpp"

#include <QtCore/QRectF>

class QPainter;

namespace attnscope::figure {

void drawColourGradient(QPainter& p, views::Colormap colormap, const QRectF& rect);
void drawDivergingGradient(QPainter& p, const QRectF& rect);

} // namespace attnscope::figure

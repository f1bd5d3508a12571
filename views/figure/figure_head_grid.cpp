#include "figure_head_grid.hpp"

#include "figure_colour_bar.hpp"
#include "figure_text.hpp"

#include "errors.hpp"
#include "store/head_metrics.hpp"
#include "store/run_reader.hpp"

#include <QtGui/QFontMetricsF>
#include <QtGui/QImage>
#include <QtGui/QPainter>

#include <algorithm>
#include <cmath>
#include <limits>

namespace attnscope::figure {

namespace {

double cellPx(const HeadGridData& d) {
    // Cells with numbers are wide enough for "-0.000" where the grid allows it.
    return d.numbers ? std::clamp(720.0 / double(std::max(d.layers, d.heads)), 4.0, 46.0)
                     : std::clamp(560.0 / double(std::max(d.layers, d.heads)), 4.0, 28.0);
}

QString cellNumber(double v) {
    return std::abs(v) >= 1000 || (v != 0 && std::abs(v) < 0.001) ? QString::number(v, 'g', 2)
                                                                  : QString::number(v, 'f', 3);
}

} // namespace

std::vector<std::string> headGridMetrics(core::RunReader& run) {
    return core::headMetricNames(run);
}

HeadGridData loadHeadGrid(core::RunReader& run, const std::string& metric, views::Colormap colormap, double clipMax) {
    HeadGridData d;
    d.runName = run.path().filename().string();
    d.layers = run.model().nLayers;
    d.heads = run.model().nHeads;
    d.colormap = colormap;
    d.metric = core::resolveHeadMetric(run, metric);
    d.values = core::headMetricValues(run, d.metric);
    bool any = false;
    double lo = 0, hi = 0;
    for (double v : d.values)
        if (std::isfinite(v)) {
            lo = any ? std::min(lo, v) : v;
            hi = any ? std::max(hi, v) : v;
            any = true;
        }
    d.vmin = std::min(lo, 0.0);
    d.vmax = clipMax > 0 ? clipMax : (hi > d.vmin ? hi : d.vmin + 1.0);
    d.clipped = hi > d.vmax;
    return d;
}

QSizeF headGridFigureSize(const HeadGridData& d) {
    const double cell = cellPx(d);
    const QFont font = figureFont(kFontPx);
    const double tickW = QFontMetricsF(font).horizontalAdvance("-0.000e-00");
    const double left = kGap + kFontPx * 1.6 + QFontMetricsF(font).horizontalAdvance("000") + kGap;
    const double w = left + std::max(cell * double(d.heads), 160.0) + 2 * kGap + kBarPx + 6 + tickW + kGap;
    const double h =
        kGap + kTitlePx * 1.6 + kFontPx * 3.2 + std::max(cell * double(d.layers), 160.0) + kFontPx * 2 + kGap;
    const std::string title = d.title.empty() ? d.runName + " \u00b7 " + d.metric + " per head" : d.title;
    const double titleW =
        2 * kGap + QFontMetricsF(figureFont(kTitlePx)).horizontalAdvance(QString::fromStdString(title));
    return {std::ceil(std::max(w, titleW)), std::ceil(h)};
}

void paintHeadGrid(QPainter& p, const HeadGridData& d) {
    const double cell = cellPx(d);
    const QFont font = figureFont(kFontPx);
    const QFontMetricsF fm(font);
    const double left = kGap + kFontPx * 1.6 + fm.horizontalAdvance("000") + kGap;
    const double top = kGap + kTitlePx * 1.6 + kFontPx * 3.2;
    const QSizeF size = headGridFigureSize(d);
    p.setPen(Qt::black);
    p.setFont(figureFont(kTitlePx));
    p.drawText(QRectF(kGap, kGap, size.width() - 2 * kGap, kTitlePx * 1.4), Qt::AlignLeft | Qt::AlignVCenter,
               QString::fromStdString(d.title.empty() ? d.runName + " \u00b7 " + d.metric + " per head" : d.title));

    const auto rgb = [&](double v) {
        const auto c = views::colormapRgb8(d.colormap, float(std::clamp((v - d.vmin) / (d.vmax - d.vmin), 0.0, 1.0)));
        return QColor(c[0], c[1], c[2]);
    };
    p.setRenderHint(QPainter::Antialiasing, false);
    for (int64_t l = 0; l < d.layers; ++l)
        for (int64_t h = 0; h < d.heads; ++h) {
            const double v = d.values[size_t(l * d.heads + h)];
            const QRectF r(left + double(h) * cell, top + double(l) * cell, cell, cell);
            p.fillRect(r, std::isfinite(v) ? rgb(v) : QColor(235, 235, 235));
        }
    if (d.numbers) {
        p.setFont(font);
        for (int64_t l = 0; l < d.layers; ++l)
            for (int64_t h = 0; h < d.heads; ++h) {
                const double v = d.values[size_t(l * d.heads + h)];
                const QString text = cellNumber(v);
                if (!std::isfinite(v) || fm.horizontalAdvance(text) + 2 > cell) continue;
                // Light text on the dark end of the map, dark on the light end.
                const auto c =
                    views::colormapRgb8(d.colormap, float(std::clamp((v - d.vmin) / (d.vmax - d.vmin), 0.0, 1.0)));
                p.setPen(0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2] < 128 ? Qt::white : Qt::black);
                p.drawText(QRectF(left + double(h) * cell, top + double(l) * cell, cell, cell), Qt::AlignCenter, text);
            }
    }
    p.setPen(QPen(QColor(255, 255, 255), cell >= 10 ? 1.0 : 0.0));
    if (cell >= 10) {
        for (int64_t h = 1; h < d.heads; ++h)
            p.drawLine(QPointF(left + double(h) * cell, top),
                       QPointF(left + double(h) * cell, top + cell * double(d.layers)));
        for (int64_t l = 1; l < d.layers; ++l)
            p.drawLine(QPointF(left, top + double(l) * cell),
                       QPointF(left + cell * double(d.heads), top + double(l) * cell));
    }
    p.setRenderHint(QPainter::Antialiasing, true);
    p.setPen(QPen(Qt::black, 0.8));
    p.drawRect(QRectF(left, top, cell * double(d.heads), cell * double(d.layers)));

    // Axis labels every stride-th layer/head so they never overlap.
    p.setFont(font);
    const int64_t stride = std::max<int64_t>(1, int64_t(std::ceil((kFontPx + 2) / cell)));
    const int64_t hstride = std::max<int64_t>(stride, int64_t(std::ceil((fm.horizontalAdvance("00") + 4) / cell)));
    for (int64_t l = 0; l < d.layers; l += stride)
        p.drawText(QRectF(left - kGap - 60, top + (double(l) + 0.5) * cell - kFontPx, 60, 2 * kFontPx),
                   Qt::AlignRight | Qt::AlignVCenter, QString::number(l));
    for (int64_t h = 0; h < d.heads; h += hstride)
        p.drawText(QRectF(left + (double(h) + 0.5) * cell - 30, top - kFontPx * 1.8, 60, kFontPx * 1.6),
                   Qt::AlignCenter, QString::number(h));
    p.drawText(QRectF(left, top - kFontPx * 3.4, cell * double(d.heads), kFontPx * 1.6), Qt::AlignCenter, "head");
    p.save();
    p.translate(kGap + kFontPx * 0.7, top + cell * double(d.layers) / 2);
    p.rotate(-90);
    p.drawText(QRectF(-100, -kFontPx * 0.7, 200, kFontPx * 1.4), Qt::AlignCenter, "layer");
    p.restore();

    // Legend: the colour bar, with ticks at five values.
    const double barX = left + std::max(cell * double(d.heads), 160.0) + 2 * kGap;
    const double barH = std::max(cell * double(d.layers), 160.0);
    drawColourGradient(p, d.colormap, QRectF(barX, top, kBarPx, barH));
    for (int i = 0; i <= 4; ++i) {
        const double v = d.vmin + (d.vmax - d.vmin) * i / 4.0;
        const double y = top + barH * (1.0 - i / 4.0);
        p.drawLine(QPointF(barX + kBarPx, y), QPointF(barX + kBarPx + 4, y));
        QString text = QString::number(v, 'g', 3);
        if (i == 4 && d.clipped) text = QString::fromUtf8("\u2265") + text;
        p.drawText(QRectF(barX + kBarPx + 6, y - kFontPx, 200, 2 * kFontPx), Qt::AlignLeft | Qt::AlignVCenter, text);
    }
    p.drawText(QRectF(left, top + cell * double(d.layers) + 4, size.width() - left, kFontPx * 1.6),
               Qt::AlignLeft | Qt::AlignVCenter,
               QString::fromStdString("grey: no value \u00b7 colour: " + std::string(views::colormapName(d.colormap))));
}

} // namespace attnscope::figure

#include "figure_heatmap.hpp"

#include "figure_colour_bar.hpp"
#include "figure_text.hpp"

#include "errors.hpp"
#include "store/run_reader.hpp"

#include <QtGui/QFontMetricsF>
#include <QtGui/QImage>
#include <QtGui/QPainter>

#include <algorithm>
#include <cmath>

namespace attnscope::figure {

namespace {

constexpr double kMaxCellPx = 28.0;   // short ranges do not blow up into posters
constexpr double kMaxLabelPx = 110.0; // longer token labels are elided
const QColor kMaskedColor(235, 235, 235);

struct Layout {
    double cell = 1, left = 0, top = 0, plotW = 0, plotH = 0, labelW = 0, bottomLabelH = 0, width = 0, height = 0;
};

std::string differenceRuns(const HeatmapData& d) {
    return "B = " + d.runName + ", A = " + d.minusName;
}

Layout layoutOf(const HeatmapData& d) {
    Layout l;
    l.cell = std::min(kMaxCellPx, d.spec.plotPx / double(std::max<int64_t>({d.rows, d.cols, 1})));
    l.plotW = l.cell * double(d.cols);
    l.plotH = l.cell * double(d.rows);
    const QFont font = figureFont(kFontPx);
    double labelW = QFontMetricsF(font).horizontalAdvance("0000");
    for (const auto& s : d.rowLabels)
        labelW = std::max(labelW, labelWidth(font, s, kMaxLabelPx));
    for (const auto& s : d.colLabels)
        labelW = std::max(labelW, labelWidth(font, s, kMaxLabelPx));
    l.labelW = labelW;
    l.left = kGap + kFontPx * 1.6 + labelW + kGap;
    l.top = kGap + kTitlePx * 1.6 + (d.difference ? kFontPx * 1.6 : 0.0); // a difference names its runs below
    l.bottomLabelH = labelW + kGap + kFontPx * 1.6;
    const double tickW = QFontMetricsF(font).horizontalAdvance("0.0000e-00");
    l.width = l.left + std::max(l.plotW, 120.0) + 2 * kGap + kBarPx + 6 + tickW + kGap;
    if (d.difference)
        l.width = std::max(l.width,
                           2 * kGap + QFontMetricsF(font).horizontalAdvance(QString::fromStdString(differenceRuns(d))));
    l.height = l.top + std::max(l.plotH, 160.0) + kGap + l.bottomLabelH + kGap;
    return l;
}

std::string tokenLabel(const core::RunTokens& tokens, int64_t t) {
    return t < int64_t(tokens.pieces.size()) ? printablePiece(tokens.pieces[size_t(t)]) : std::to_string(t);
}

} // namespace

HeatmapScale heatmapScaleFromName(const std::string& name) {
    if (name == "linear") return HeatmapScale::Linear;
    if (name == "log") return HeatmapScale::Log;
    if (name == "row") return HeatmapScale::Row;
    throw core::ArgumentError("Unknown heatmap scale '" + name + "': use linear, log or row.");
}

void checkLayerHead(core::RunReader& run, int64_t layer, int64_t head) {
    const auto& model = run.model();
    const std::string file = run.path().string();
    if (layer < 0 || layer >= model.nLayers)
        throw core::ArgumentError("Run file '" + file + "' has layers 0 to " + std::to_string(model.nLayers - 1) +
                                  ", not layer " + std::to_string(layer) + ".");
    if (head < 0 || head >= model.nHeads)
        throw core::ArgumentError("Run file '" + file + "' has heads 0 to " + std::to_string(model.nHeads - 1) +
                                  ", not head " + std::to_string(head) + ".");
}

HeatmapData loadHeatmap(core::RunReader& run, const HeatmapSpec& spec) {
    const int64_t T = run.layout().tokens;
    const std::string file = run.path().string();
    checkLayerHead(run, spec.layer, spec.head);
    HeatmapData d;
    d.spec = spec;
    d.runName = run.path().filename().string();
    auto& s = d.spec;
    if (s.q1 < 0) s.q1 = T;
    if (s.k1 < 0) s.k1 = T;
    if (s.q0 < 0 || s.k0 < 0 || s.q0 >= s.q1 || s.k0 >= s.k1 || s.q1 > T || s.k1 > T)
        throw core::ArgumentError("The range " + std::to_string(s.q0) + ":" + std::to_string(s.q1) + "," +
                                  std::to_string(s.k0) + ":" + std::to_string(s.k1) + " is not inside the " +
                                  std::to_string(T) + " tokens of run file '" + file + "'.");
    if (!(s.clipMax >= 0.0) || !std::isfinite(s.clipMax))
        throw core::ArgumentError("The clipping maximum must be a positive number, not " + std::to_string(s.clipMax) +
                                  ".");
    // Coarsest level that still keeps every cell at least one logical pixel wide.
    const int64_t span = std::max(s.q1 - s.q0, s.k1 - s.k0);
    while (d.level < 40 && ((span + (int64_t(1) << d.level) - 1) >> d.level) > int64_t(s.plotPx))
        ++d.level;
    const int64_t step = int64_t(1) << d.level;
    const int64_t r0 = s.q0 / step, r1 = (s.q1 + step - 1) / step;
    const int64_t c0 = s.k0 / step, c1 = (s.k1 + step - 1) / step;
    d.rows = r1 - r0;
    d.cols = c1 - c0;
    d.values.assign(size_t(d.rows * d.cols), 0.0f);
    d.masked.assign(size_t(d.rows * d.cols), 0);
    constexpr int64_t kTile = 256;
    for (int64_t tr = r0; tr < r1; tr += kTile)
        for (int64_t tc = c0; tc < c1; tc += kTile) {
            const core::Tile tile = run.tile(s.layer, s.head, d.level, tr, tc, kTile,
                                             s.cellMax ? core::TileReduce::Max : core::TileReduce::Mean);
            for (int64_t i = 0; i < tile.rows && tr + i < r1; ++i)
                for (int64_t j = 0; j < tile.cols && tc + j < c1; ++j)
                    d.values[size_t((tr + i - r0) * d.cols + (tc + j - c0))] = tile.values[size_t(i * tile.cols + j)];
        }
    for (int64_t i = 0; i < d.rows; ++i)
        for (int64_t j = 0; j < d.cols; ++j)
            d.masked[size_t(i * d.cols + j)] = (c0 + j) * step > (r0 + i) * step + step - 1;
    // Labels: every stride-th cell, so that labels never overlap; token pieces at level 0, token indices above it.
    const auto& tokens = run.tokens();
    const double cell = std::min(kMaxCellPx, s.plotPx / double(std::max(d.rows, d.cols)));
    const int64_t stride = std::max<int64_t>(1, int64_t(std::ceil((kFontPx + 1.0) / cell)));
    auto labels = [&](int64_t first, int64_t n) {
        std::vector<std::string> out(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; i += stride)
            out[size_t(i)] = d.level == 0 ? tokenLabel(tokens, first + i) : std::to_string((first + i) * step);
        return out;
    };
    d.rowLabels = labels(r0, d.rows);
    d.colLabels = labels(c0, d.cols);
    // Colour-bar range.
    float dataMax = 0.0f;
    for (float v : d.values)
        dataMax = std::max(dataMax, v);
    if (s.scale == HeatmapScale::Row) dataMax = 1.0f;
    d.vmax = s.clipMax > 0 ? s.clipMax : (dataMax > 0 ? double(dataMax) : 1.0);
    d.clipped = dataMax > d.vmax;
    d.vmin = s.scale == HeatmapScale::Log ? d.vmax * 1e-3 : 0.0;
    return d;
}

double heatmapPosition(const HeatmapData& d, double v, double rowMax) {
    if (d.difference) return std::clamp(0.5 + v / (2.0 * d.vmax), 0.0, 1.0);
    if (d.spec.scale == HeatmapScale::Row) v = rowMax > 0 ? v / rowMax : 0.0;
    double t = 0;
    if (d.spec.scale == HeatmapScale::Log)
        t = v <= d.vmin ? 0.0 : std::log10(v / d.vmin) / std::log10(d.vmax / d.vmin);
    else
        t = v / d.vmax;
    return std::clamp(t, 0.0, 1.0);
}

std::array<int, 3> heatmapColour(const HeatmapData& d, double t) {
    return d.difference ? views::divergingRgb8(t) : views::colormapRgb8(d.spec.colormap, float(t));
}

QRectF heatmapPlotRect(const HeatmapData& data) {
    ensureFigureFonts();
    const Layout l = layoutOf(data);
    return {l.left, l.top, l.plotW, l.plotH};
}

QSizeF heatmapFigureSize(const HeatmapData& data) {
    ensureFigureFonts();
    const Layout l = layoutOf(data);
    return {std::ceil(l.width), std::ceil(l.height)};
}

void paintHeatmap(QPainter& p, const HeatmapData& d) {
    const Layout l = layoutOf(d);
    const QFont font = figureFont(kFontPx);
    p.setFont(figureFont(kTitlePx));
    p.setPen(Qt::black);
    const std::string range = d.spec.q0 == 0 && d.spec.k0 == 0 && d.spec.q1 == d.spec.k1
                                  ? std::to_string(d.spec.q1) + " tokens"
                                  : "queries " + std::to_string(d.spec.q0) + ":" + std::to_string(d.spec.q1) +
                                        ", keys " + std::to_string(d.spec.k0) + ":" + std::to_string(d.spec.k1);
    std::string title = (d.difference ? std::string("B \u2212 A") : d.runName) + " \u00b7 layer " +
                        std::to_string(d.spec.layer) + ", head " + std::to_string(d.spec.head) + " \u00b7 " + range;
    if (d.level > 0)
        title += " \u00b7 " + std::string(d.spec.cellMax ? "max" : "mean") + " over cells of " +
                 std::to_string(1 << d.level) + " tokens";
    p.drawText(QRectF(kGap, kGap, l.width - 2 * kGap, kTitlePx * 1.4), Qt::AlignLeft | Qt::AlignVCenter,
               QString::fromStdString(title));
    if (d.difference) {
        p.setFont(font);
        p.drawText(QRectF(kGap, kGap + kTitlePx * 1.6, l.width - 2 * kGap, kFontPx * 1.4),
                   Qt::AlignLeft | Qt::AlignVCenter, QString::fromStdString(differenceRuns(d)));
    }

    // Cells: one image pixel per cell, scaled without smoothing, so PNG, SVG and PDF show the same blocks.
    QImage cells(int(d.cols), int(d.rows), QImage::Format_RGB32);
    for (int64_t i = 0; i < d.rows; ++i) {
        float rowMax = 0;
        for (int64_t j = 0; j < d.cols; ++j)
            rowMax = std::max(rowMax, d.values[size_t(i * d.cols + j)]);
        auto* line = reinterpret_cast<QRgb*>(cells.scanLine(int(i)));
        for (int64_t j = 0; j < d.cols; ++j) {
            const size_t at = size_t(i * d.cols + j);
            if (d.masked[at]) {
                line[j] = kMaskedColor.rgb();
                continue;
            }
            const auto c = heatmapColour(d, heatmapPosition(d, d.values[at], rowMax));
            line[j] = qRgb(c[0], c[1], c[2]);
        }
    }
    const QRectF plot(l.left, l.top, l.plotW, l.plotH);
    p.save();
    p.setRenderHint(QPainter::SmoothPixmapTransform, false);
    p.drawImage(plot, cells);
    p.restore();
    p.setPen(QPen(Qt::black, 0.8));
    p.setBrush(Qt::NoBrush);
    p.drawRect(plot);

    // Token labels: rows to the left, columns below, rotated to read bottom-up.
    p.setFont(font);
    const QFontMetricsF fm(font);
    for (int64_t i = 0; i < d.rows; ++i) {
        if (d.rowLabels[size_t(i)].empty()) continue;
        const double y = l.top + (double(i) + 0.5) * l.cell;
        p.drawText(QRectF(l.left - kGap - l.labelW, y - kFontPx, l.labelW, 2 * kFontPx),
                   Qt::AlignRight | Qt::AlignVCenter, elided(font, d.rowLabels[size_t(i)], kMaxLabelPx));
    }
    for (int64_t j = 0; j < d.cols; ++j) {
        if (d.colLabels[size_t(j)].empty()) continue;
        const double x = l.left + (double(j) + 0.5) * l.cell;
        p.save();
        p.translate(x, l.top + l.plotH + kGap * 0.5);
        p.rotate(-90);
        p.drawText(QRectF(-l.labelW, -kFontPx, l.labelW, 2 * kFontPx), Qt::AlignRight | Qt::AlignVCenter,
                   elided(font, d.colLabels[size_t(j)], kMaxLabelPx));
        p.restore();
    }
    p.drawText(QRectF(l.left, l.top + l.plotH + l.bottomLabelH - kFontPx * 1.4, l.plotW, kFontPx * 1.4),
               Qt::AlignHCenter | Qt::AlignVCenter, "key (attended token)");
    p.save();
    p.translate(kGap + kFontPx * 0.7, l.top + l.plotH / 2);
    p.rotate(-90);
    p.drawText(QRectF(-l.plotH / 2, -kFontPx * 0.7, l.plotH, kFontPx * 1.4), Qt::AlignCenter,
               "query (attending token)");
    p.restore();

    // Colour bar with ticks; a triangle on top (and for a difference at the bottom) says that values beyond the range
    // were clipped to the end colour.
    const double barX = l.left + std::max(l.plotW, 120.0) + 2 * kGap;
    const bool clipBelow = d.clipped && d.difference;
    const double barH = std::max(l.plotH, 160.0) - (d.clipped ? kBarPx : 0) - (clipBelow ? kBarPx : 0);
    const double barY = l.top + (d.clipped ? kBarPx : 0);
    if (d.difference)
        drawDivergingGradient(p, QRectF(barX, barY, kBarPx, barH));
    else
        drawColourGradient(p, d.spec.colormap, QRectF(barX, barY, kBarPx, barH));
    auto clipMark = [&](double y, double tip, double t) {
        const auto c = heatmapColour(d, t);
        QPolygonF tri;
        tri << QPointF(barX, y) << QPointF(barX + kBarPx, y) << QPointF(barX + kBarPx / 2, y + tip);
        p.setBrush(QColor(c[0], c[1], c[2]));
        p.drawPolygon(tri);
        p.setBrush(Qt::NoBrush);
    };
    if (d.clipped) clipMark(barY, -kBarPx * 0.9, 1.0);
    if (clipBelow) clipMark(barY + barH, kBarPx * 0.9, 0.0);
    std::vector<double> ticks;
    if (d.spec.scale == HeatmapScale::Log && !d.difference) {
        for (double v = std::pow(10.0, std::ceil(std::log10(d.vmin) - 1e-9)); v <= d.vmax * (1 + 1e-9); v *= 10)
            ticks.push_back(v);
    } else {
        for (int i = 0; i <= 4; ++i)
            ticks.push_back(d.vmin + (d.vmax - d.vmin) * i / 4.0);
    }
    for (double v : ticks) {
        const double t = heatmapPosition(d, v, 1.0);
        const double y = barY + barH * (1.0 - t);
        p.drawLine(QPointF(barX + kBarPx, y), QPointF(barX + kBarPx + 4, y));
        QString text = QString::number(v, 'g', 3);
        if (d.clipped && v == ticks.back()) text = QString::fromUtf8("\u2265") + text;
        if (clipBelow && v == ticks.front()) text = QString::fromUtf8("\u2264") + text;
        p.drawText(QRectF(barX + kBarPx + 6, y - kFontPx, 200, 2 * kFontPx), Qt::AlignLeft | Qt::AlignVCenter, text);
    }
    const char* what = d.difference                        ? "B \u2212 A"
                       : d.spec.scale == HeatmapScale::Row ? "share of row max"
                       : d.spec.scale == HeatmapScale::Log ? "attention (log)"
                                                           : "attention";
    p.drawText(QRectF(barX, barY + barH + (clipBelow ? kBarPx : 0) + kFontPx + 2, kBarPx + 120, kFontPx * 1.6),
               Qt::AlignLeft | Qt::AlignVCenter, what);
}

} // namespace attnscope::figure

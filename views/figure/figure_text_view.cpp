#include "figure_text_view.hpp"

#include "figure_heatmap.hpp"

#include "figure_colour_bar.hpp"
#include "figure_text.hpp"

#include "../text_shading.hpp"
#include "errors.hpp"
#include "store/run_reader.hpp"

#include <QtGui/QFontMetricsF>
#include <QtGui/QPainter>

#include <algorithm>
#include <cmath>

namespace attnscope::figure {

namespace {

constexpr double kTextPx = 14.0;
constexpr double kLinePx = kTextPx * 1.9;
constexpr int64_t kMaxTokens = 512; // a default window a page can hold

struct Layout {
    std::vector<QRectF> boxes; // visible part of each token (leading spaces left out)
    std::vector<double> textX; // where each token's text (with its leading spaces) starts
    double top = 0, textH = 0, width = 0, height = 0;
};

Layout layoutOf(const TextFigureData& d) {
    Layout l;
    const QFont font = figureFont(kTextPx);
    const QFontMetricsF fm(font);
    const size_t n = d.texts.size();
    std::vector<float> widths(n);
    std::vector<double> lead(n);
    for (size_t i = 0; i < n; ++i) {
        const QString s = QString::fromStdString(d.texts[i]);
        widths[i] = float(fm.horizontalAdvance(s));
        qsizetype spaces = 0;
        while (spaces < s.size() && s[spaces] == QLatin1Char(' '))
            ++spaces;
        lead[i] = fm.horizontalAdvance(s.left(spaces));
    }
    const std::vector<int64_t> starts = views::wrapTokens(widths, d.breakBefore, d.breakAfter, float(d.spec.widthPx));
    l.top = kGap + kTitlePx * 1.6 + kFontPx * 1.6 + kGap;
    l.boxes.resize(n);
    l.textX.resize(n);
    size_t line = 0;
    double x = kGap;
    for (size_t i = 0; i < n; ++i) {
        if (line < starts.size() && int64_t(i) == starts[line]) {
            x = kGap;
            ++line;
        }
        // A line's first token drops its leading spaces: lines start flush left.
        const double skip = x == kGap ? lead[i] : 0.0;
        const double y = l.top + double(line - 1) * kLinePx;
        l.textX[i] = x - skip;
        const double w = std::min(double(widths[i]) - skip, d.spec.widthPx);
        l.boxes[i] = QRectF(x + (lead[i] - skip), y + 2, std::max(w - (lead[i] - skip), 3.0), kLinePx - 4);
        x += w;
    }
    l.textH = std::max(double(starts.size()) * kLinePx, 120.0);
    const double tickW = QFontMetricsF(figureFont(kFontPx)).horizontalAdvance("\u22650.0000e-00");
    l.width = std::ceil(kGap + d.spec.widthPx + 2 * kGap + kBarPx + 6 + tickW + kGap);
    l.height = std::ceil(l.top + l.textH + kGap + kFontPx * 1.6 + kGap);
    return l;
}

std::string excerpt(const std::string& s) {
    return s.size() <= 24 ? s : s.substr(0, 24) + "\u2026";
}

} // namespace

TextFigureData loadTextFigure(core::RunReader& run, const TextFigureSpec& spec) {
    const int64_t T = run.layout().tokens;
    const std::string file = run.path().string();
    checkLayerHead(run, spec.layer, spec.head);
    TextFigureData d;
    d.spec = spec;
    d.runName = run.path().filename().string();
    auto& s = d.spec;
    if (s.query < 0) s.query = T - 1;
    if (s.query >= T)
        throw core::ArgumentError("Run file '" + file + "' has tokens 0 to " + std::to_string(T - 1) + ", not token " +
                                  std::to_string(s.query) + ".");
    if (s.t1 < 0) {
        s.t1 = T <= kMaxTokens ? T : s.query + 1;
        if (T > kMaxTokens) s.t0 = std::max(s.t0, s.t1 - kMaxTokens);
    }
    if (s.t0 < 0 || s.t0 >= s.t1 || s.t1 > T)
        throw core::ArgumentError("The token window " + std::to_string(s.t0) + ":" + std::to_string(s.t1) +
                                  " is not inside the " + std::to_string(T) + " tokens of run file '" + file + "'.");
    if (!(s.clipMax >= 0.0) || !std::isfinite(s.clipMax))
        throw core::ArgumentError("The clipping maximum must be a positive number, not " + std::to_string(s.clipMax) +
                                  ".");
    if (!(s.widthPx >= 100.0 && s.widthPx <= 20000.0))
        throw core::ArgumentError("The text width must be between 100 and 20000 pixels, not " +
                                  std::to_string(s.widthPx) + ".");
    const core::RunTokens& tokens = run.tokens();
    const int64_t n = s.t1 - s.t0;
    for (int64_t t = s.t0; t < s.t1; ++t) {
        const views::TokenText text = views::tokenText(tokens, t);
        d.texts.push_back(text.text.empty() ? printablePiece(tokens.pieces.at(size_t(t))) : text.text);
        d.breakBefore.push_back(text.breakBefore);
        d.breakAfter.push_back(text.breakAfter);
    }
    d.positions.assign(size_t(n), 0.0f);
    d.shaded.assign(size_t(n), 1);
    if (s.metric.empty()) {
        // The query's row over every key (zeros after it), normalised as the screen does: by the largest weight but
        // its own, or by the fixed maximum.
        std::vector<float> row = run.block(s.layer, s.head, s.query, 0, 1, T);
        views::ShadeOptions o;
        o.scale = s.clipMax > 0 ? views::ShadeScale::Fixed : views::ShadeScale::Max;
        o.fixedMax = float(s.clipMax);
        const std::vector<views::TokenShade> shades = views::shadeTokens(row, s.query, o);
        float scale = float(s.clipMax);
        if (scale <= 0) {
            for (int64_t t = 0; t < s.query; ++t)
                scale = std::max(scale, row[size_t(t)]);
            if (scale <= 0) scale = row[size_t(s.query)]; // only the query itself is in reach (shadeTokens' rule)
        }
        if (!(scale > 0)) scale = 1;
        for (int64_t i = 0; i < n; ++i) {
            const auto& sh = shades[size_t(s.t0 + i)];
            d.values.push_back(row[size_t(s.t0 + i)]);
            d.positions[size_t(i)] = sh.alpha;
            d.shaded[size_t(i)] = sh.reachable;
            if (sh.reachable && row[size_t(s.t0 + i)] > scale * (1 + 1e-6f)) d.clipped = true;
        }
        d.vmax = scale;
        d.valueName = "attention from token " + std::to_string(s.query);
        return d;
    }
    const std::vector<std::string> stats{"entropy", "first_mass", "received", "alpha"};
    if (std::find(stats.begin(), stats.end(), s.metric) == stats.end())
        throw core::ArgumentError("Unknown text-view statistic '" + s.metric +
                                  "': use entropy, first_mass, received or alpha (or none for attention).");
    if (!run.summary().stats)
        throw core::ArgumentError("Run file '" + file + "' holds no per-token statistics to shade by '" + s.metric +
                                  "'.");
    const std::vector<float> all = run.layerStat(s.metric, s.layer);
    double lo = 0, hi = 0;
    for (int64_t i = 0; i < n; ++i) {
        const float v = all.at(size_t(s.head * T + s.t0 + i));
        d.values.push_back(v);
        if (std::isfinite(v)) lo = std::min(lo, double(v)), hi = std::max(hi, double(v));
    }
    d.vmin = lo;
    d.vmax = s.clipMax > 0 ? s.clipMax : (hi > lo ? hi : lo + 1.0);
    d.clipped = hi > d.vmax;
    for (int64_t i = 0; i < n; ++i) {
        const float v = d.values[size_t(i)];
        d.shaded[size_t(i)] = std::isfinite(v);
        d.positions[size_t(i)] = std::isfinite(v) ? float(std::clamp((v - d.vmin) / (d.vmax - d.vmin), 0.0, 1.0)) : 0;
    }
    d.valueName = s.metric + " of each query";
    return d;
}

QSizeF textFigureSize(const TextFigureData& data) {
    ensureFigureFonts();
    const Layout l = layoutOf(data);
    return {l.width, l.height};
}

QRectF textFigureTokenRect(const TextFigureData& data, int64_t i) {
    ensureFigureFonts();
    return layoutOf(data).boxes.at(size_t(i));
}

void paintTextFigure(QPainter& p, const TextFigureData& d) {
    const Layout l = layoutOf(d);
    const auto& s = d.spec;
    p.setPen(Qt::black);
    p.setFont(figureFont(kTitlePx));
    p.drawText(QRectF(kGap, kGap, l.width - 2 * kGap, kTitlePx * 1.4), Qt::AlignLeft | Qt::AlignVCenter,
               QString::fromStdString(d.runName + " \u00b7 layer " + std::to_string(s.layer) + ", head " +
                                      std::to_string(s.head) + " \u00b7 tokens " + std::to_string(s.t0) + ":" +
                                      std::to_string(s.t1)));
    const bool attention = s.metric.empty();
    const std::string query = attention && s.query >= s.t0 && s.query < s.t1
                                  ? " \u00ab" + excerpt(d.texts[size_t(s.query - s.t0)]) + "\u00bb"
                                  : std::string();
    p.setFont(figureFont(kFontPx));
    p.drawText(QRectF(kGap, kGap + kTitlePx * 1.6, l.width - 2 * kGap, kFontPx * 1.4), Qt::AlignLeft | Qt::AlignVCenter,
               QString::fromStdString(attention ? "shade: attention of token " + std::to_string(s.query) + query +
                                                      " (framed) to each token; later tokens are out of its reach"
                                                : "shade: " + s.metric + " of the head at each token"));

    const QFont font = figureFont(kTextPx);
    p.setFont(font);
    for (size_t i = 0; i < d.texts.size(); ++i) {
        const QRectF box = l.boxes[i];
        QColor ink(150, 150, 150);
        if (d.shaded[i]) {
            const auto c = views::colormapRgb8(s.colormap, d.positions[i]);
            p.fillRect(box, QColor(c[0], c[1], c[2]));
            // Light text on the dark end of the map, dark on the light end.
            const double luma = 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
            ink = luma < 128 ? QColor(255, 255, 255) : QColor(0, 0, 0);
        }
        p.setPen(ink);
        p.drawText(QRectF(l.textX[i], box.top(), s.widthPx, box.height()), Qt::AlignLeft | Qt::AlignVCenter,
                   QString::fromStdString(d.texts[i]));
        if (attention && int64_t(i) + s.t0 == s.query) {
            p.setPen(QPen(QColor(220, 30, 30), 2.0));
            p.setBrush(Qt::NoBrush);
            p.drawRect(box.adjusted(-1, -1, 1, 1));
        }
    }

    // Colour bar with ticks; "≥" on the top tick when larger values share the top colour.
    p.setPen(QPen(Qt::black, 0.8));
    p.setFont(figureFont(kFontPx));
    const double barX = kGap + s.widthPx + 2 * kGap;
    drawColourGradient(p, s.colormap, QRectF(barX, l.top, kBarPx, l.textH));
    for (int i = 0; i <= 4; ++i) {
        const double v = d.vmin + (d.vmax - d.vmin) * i / 4.0;
        const double y = l.top + l.textH * (1.0 - i / 4.0);
        p.drawLine(QPointF(barX + kBarPx, y), QPointF(barX + kBarPx + 4, y));
        QString text = QString::number(v, 'g', 3);
        if (i == 4 && d.clipped) text = QString::fromUtf8("\u2265") + text;
        p.drawText(QRectF(barX + kBarPx + 6, y - kFontPx, 200, 2 * kFontPx), Qt::AlignLeft | Qt::AlignVCenter, text);
    }
    p.drawText(QRectF(kGap, l.top + l.textH + kGap, l.width - 2 * kGap, kFontPx * 1.4),
               Qt::AlignLeft | Qt::AlignVCenter,
               QString::fromStdString("colour: " + d.valueName + " (" + std::string(views::colormapName(s.colormap)) +
                                      (attention && s.clipMax <= 0 ? ", top: its largest weight but its own" : "") +
                                      "); grey text: no shade"));
}

} // namespace attnscope::figure

#include "figure_compare.hpp"

#include "errors.hpp"
#include "store/run_reader.hpp"

#include <QtGui/QPainter>

#include <algorithm>
#include <cmath>

namespace attnscope::figure {

namespace {

float largest(const std::vector<float>& values) {
    float m = 0;
    for (float v : values)
        m = std::max(m, v);
    return m;
}

// The range as far as `run` reaches: side by side, the shorter run shows what it has of the shared camera's range.
HeatmapSpec cutTo(const HeatmapSpec& spec, core::RunReader& run) {
    HeatmapSpec s = spec;
    const int64_t T = run.layout().tokens;
    if (s.q1 > T) s.q1 = T;
    if (s.k1 > T) s.k1 = T;
    return s;
}

} // namespace

HeatmapData loadHeatmapDifference(core::RunReader& a, core::RunReader& b, const HeatmapSpec& spec) {
    const auto &ma = a.model(), &mb = b.model();
    const int64_t ta = a.layout().tokens, tb = b.layout().tokens;
    const std::string names = "Run files '" + b.path().string() + "' and '" + a.path().string() + "'";
    if (ma.nLayers != mb.nLayers || ma.nHeads != mb.nHeads)
        throw core::ArgumentError(names + " have different shapes (" + std::to_string(mb.nLayers) + "x" +
                                  std::to_string(mb.nHeads) + " and " + std::to_string(ma.nLayers) + "x" +
                                  std::to_string(ma.nHeads) + " heads), so they have no difference.");
    if (ta != tb)
        throw core::ArgumentError(names + " have different lengths (" + std::to_string(tb) + " and " +
                                  std::to_string(ta) + " tokens), so they have no difference.");
    // Read as plain linear cells: the difference is taken of the attention weights themselves.
    HeatmapSpec plain = spec;
    plain.scale = HeatmapScale::Linear;
    plain.clipMax = 0;
    const HeatmapData da = loadHeatmap(a, plain);
    HeatmapData d = loadHeatmap(b, plain);
    d.spec.scale = spec.scale;
    d.spec.clipMax = spec.clipMax;
    d.difference = true;
    d.minusName = da.runName;
    float maxAbs = 0;
    for (size_t i = 0; i < d.values.size(); ++i) {
        d.values[i] -= da.values[i];
        maxAbs = std::max(maxAbs, std::abs(d.values[i]));
    }
    d.vmax = spec.clipMax > 0 ? spec.clipMax : maxAbs > 0 ? double(maxAbs) : 1.0;
    d.vmin = -d.vmax;
    d.clipped = maxAbs > d.vmax;
    return d;
}

HeatmapPair loadHeatmapPair(core::RunReader& a, core::RunReader& b, const HeatmapSpec& spec) {
    HeatmapPair pair{loadHeatmap(a, cutTo(spec, a)), loadHeatmap(b, cutTo(spec, b))};
    pair.a.runName = "A: " + pair.a.runName;
    pair.b.runName = "B: " + pair.b.runName;
    if (spec.clipMax > 0 || spec.scale == HeatmapScale::Row) return pair; // already the same range
    const double vmax = std::max(pair.a.vmax, pair.b.vmax);
    for (HeatmapData* d : {&pair.a, &pair.b}) {
        d->vmax = vmax;
        d->vmin = spec.scale == HeatmapScale::Log ? vmax * 1e-3 : 0.0;
        d->clipped = double(largest(d->values)) > vmax;
    }
    return pair;
}

QPointF heatmapPairOffset(const HeatmapPair& pair) {
    return {heatmapFigureSize(pair.a).width(), 0.0};
}

QSizeF heatmapPairFigureSize(const HeatmapPair& pair) {
    const QSizeF a = heatmapFigureSize(pair.a), b = heatmapFigureSize(pair.b);
    return {a.width() + b.width(), std::max(a.height(), b.height())};
}

void paintHeatmapPair(QPainter& p, const HeatmapPair& pair) {
    paintHeatmap(p, pair.a);
    p.save();
    p.translate(heatmapPairOffset(pair));
    paintHeatmap(p, pair.b);
    p.restore();
}

} // namespace attnscope::figure

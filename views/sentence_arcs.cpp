#include "sentence_arcs.hpp"

#include <algorithm>
#include <cmath>

namespace attnscope::views {

std::vector<SentenceLink> strongestLinks(std::span<const float> matrix, int64_t n, int64_t topN, int64_t minDistance,
                                         int64_t source) {
    std::vector<SentenceLink> links;
    if (n <= 0 || topN <= 0 || matrix.size() < size_t(n * n)) return links;
    for (int64_t i = 0; i < n; ++i) {
        if (source >= 0 && i != source) continue;
        for (int64_t j = 0; j + std::max<int64_t>(minDistance, 0) <= i; ++j) {
            const float w = matrix[size_t(i * n + j)];
            if (w > 0) links.push_back({i, j, w}); // false for NaN too
        }
    }
    auto stronger = [](const SentenceLink& a, const SentenceLink& b) {
        if (a.weight != b.weight) return a.weight > b.weight;
        return a.from != b.from ? a.from < b.from : a.to < b.to;
    };
    const size_t keep = std::min(links.size(), size_t(topN));
    std::partial_sort(links.begin(), links.begin() + std::ptrdiff_t(keep), links.end(), stronger);
    links.resize(keep);
    return links;
}

std::vector<float> meanHeadMatrix(std::span<const float> matrices, int64_t layers, int64_t heads, int64_t n,
                                  std::span<const std::pair<int64_t, int64_t>> picked) {
    const size_t cells = size_t(n * n);
    std::vector<double> sum(cells, 0.0);
    std::vector<int> count(cells, 0);
    bool any = false;
    for (const auto& [l, h] : picked) {
        if (l < 0 || l >= layers || h < 0 || h >= heads) continue;
        const size_t base = size_t((l * heads + h) * n * n);
        if (matrices.size() < base + cells) continue;
        any = true;
        for (size_t c = 0; c < cells; ++c)
            if (!std::isnan(matrices[base + c])) sum[c] += double(matrices[base + c]), ++count[c];
    }
    if (!any) return {};
    std::vector<float> out(cells);
    for (size_t c = 0; c < cells; ++c)
        out[c] = count[c] ? float(sum[c] / count[c]) : NAN;
    return out;
}

std::vector<GridRect> flowBlocks(std::span<const std::pair<float, float>> sizes, float width, float gapX, float gapY,
                                 float top) {
    std::vector<GridRect> out;
    float x = 0, y = top, rowHeight = 0;
    for (const auto& [w0, h] : sizes) {
        const float w = std::min(w0, width);
        if (x > 0 && x + w > width) {
            x = 0;
            y += rowHeight + gapY;
            rowHeight = 0;
        }
        out.push_back({x, y, x + w, y + h});
        x += w + gapX;
        rowHeight = std::max(rowHeight, h);
    }
    return out;
}

std::vector<SentenceArc> sentenceArcs(std::span<const SentenceLink> links, std::span<const GridRect> blocks,
                                      const ArcStyle& style) {
    float strongest = 0;
    for (const auto& link : links)
        strongest = std::max(strongest, link.weight);
    // How many arcs end on each block so far: each next one lands a little further along its top edge.
    std::vector<int> ends(blocks.size(), 0);
    auto endpoint = [&](int64_t b) {
        const GridRect& r = blocks[size_t(b)];
        const float centre = (r.x0 + r.x1) / 2, spread = std::min(r.width() / 2 - 1, 3.0f * float(ends[size_t(b)]));
        const float offset = (ends[size_t(b)]++ % 2 ? -1.0f : 1.0f) * std::max(spread, 0.0f);
        return ArcPoint{centre + offset, r.y0};
    };
    std::vector<SentenceArc> arcs;
    for (const auto& link : links) {
        if (link.from < 0 || link.to < 0 || size_t(link.from) >= blocks.size() || size_t(link.to) >= blocks.size())
            continue;
        SentenceArc a;
        a.from = link.from, a.to = link.to;
        a.p0 = endpoint(link.from), a.p1 = endpoint(link.to);
        const float dx = std::abs(a.p1.x - a.p0.x), dy = std::abs(a.p1.y - a.p0.y);
        const float lift = std::clamp(style.liftPerPixel * dx + 0.5f * dy, style.minLift, style.maxLift);
        const float top = std::min(a.p0.y, a.p1.y) - lift;
        a.c0 = {a.p0.x, top}, a.c1 = {a.p1.x, top};
        const float f = strongest > 0 ? std::clamp(link.weight / strongest, 0.0f, 1.0f) : 0.0f;
        a.thickness = style.minThickness + f * (style.maxThickness - style.minThickness);
        a.alpha = style.minAlpha + f * (style.maxAlpha - style.minAlpha);
        arcs.push_back(a);
    }
    return arcs;
}

ArcPoint arcPoint(const SentenceArc& a, float t) {
    const float u = 1 - t, b0 = u * u * u, b1 = 3 * u * u * t, b2 = 3 * u * t * t, b3 = t * t * t;
    return {b0 * a.p0.x + b1 * a.c0.x + b2 * a.c1.x + b3 * a.p1.x,
            b0 * a.p0.y + b1 * a.c0.y + b2 * a.c1.y + b3 * a.p1.y};
}

} // namespace attnscope::views

#include "heatmap_camera.hpp"

#include "colormap.hpp"
#include "store/run_types.hpp"

#include <algorithm>
#include <cmath>

namespace attnscope::views {

void HeatmapCamera::setViewport(double widthPx, double heightPx) {
    widthPx = std::max(widthPx, 1.0), heightPx = std::max(heightPx, 1.0);
    if (m_hasViewport && widthPx == m_w && heightPx == m_h) return;
    const bool first = !m_hasViewport;
    m_w = widthPx, m_h = heightPx, m_hasViewport = true;
    // A fitted view follows the window as it is resized; a user's view keeps its centre and zoom.
    if (first || m_fitted) fit();
    else clamp();
}

void HeatmapCamera::setTokens(int64_t tokens) {
    if (tokens == m_tokens) return;
    m_tokens = tokens;
    fit();
}

CamVec HeatmapCamera::pixelToToken(CamVec px) const {
    return {m_s.cx + (px.x - m_w / 2) * m_s.tokensPerPixel, m_s.cy + (px.y - m_h / 2) * m_s.tokensPerPixel};
}

CamVec HeatmapCamera::tokenToPixel(CamVec t) const {
    return {m_w / 2 + (t.x - m_s.cx) / m_s.tokensPerPixel, m_h / 2 + (t.y - m_s.cy) / m_s.tokensPerPixel};
}

void HeatmapCamera::pan(double dxPx, double dyPx) {
    m_s.cx -= dxPx * m_s.tokensPerPixel;
    m_s.cy -= dyPx * m_s.tokensPerPixel;
    m_fitted = false;
    clamp();
}

void HeatmapCamera::zoomAbout(CamVec px, double factor) {
    if (!(factor > 0)) return;
    const CamVec anchor = pixelToToken(px);
    m_s.tokensPerPixel /= factor;
    clamp();
    // Move the centre so that the anchor token is back under px.
    const CamVec now = pixelToToken(px);
    m_s.cx += anchor.x - now.x;
    m_s.cy += anchor.y - now.y;
    m_fitted = false;
    clamp();
}

void HeatmapCamera::boxZoom(CamVec a, CamVec b) {
    const double w = std::abs(a.x - b.x), h = std::abs(a.y - b.y);
    if (w < 4 && h < 4) return;
    const CamVec ta = pixelToToken(a), tb = pixelToToken(b);
    m_s.cx = (ta.x + tb.x) / 2;
    m_s.cy = (ta.y + tb.y) / 2;
    m_s.tokensPerPixel *= std::max(w / m_w, h / m_h);
    m_fitted = false;
    clamp();
}

void HeatmapCamera::step(int dx, int dy) {
    pan(-dx * m_w / 10, -dy * m_h / 10);
}

void HeatmapCamera::centreOn(CamVec token) {
    m_s.cx = token.x, m_s.cy = token.y;
    m_fitted = false;
    clamp();
}

void HeatmapCamera::fit() {
    const double t = double(std::max<int64_t>(m_tokens, 1));
    m_s = {t / 2, t / 2, fitTokensPerPixel()};
    m_fitted = true;
}

void HeatmapCamera::setState(const State& s) {
    m_s = s;
    m_fitted = false;
    clamp();
}

double HeatmapCamera::fitTokensPerPixel() const {
    return double(std::max<int64_t>(m_tokens, 1)) / std::min(m_w, m_h);
}

void HeatmapCamera::clamp() {
    const double fitS = fitTokensPerPixel();
    m_s.tokensPerPixel = std::clamp(m_s.tokensPerPixel, std::min(1.0 / kMaxCellPx, fitS), fitS / kMinFitFraction);
    const double t = double(std::max<int64_t>(m_tokens, 1)), s = m_s.tokensPerPixel;
    const double mx = std::min(kKeepPx, m_w / 2), my = std::min(kKeepPx, m_h / 2);
    m_s.cx = std::clamp(m_s.cx, (mx - m_w / 2) * s, t + (m_w / 2 - mx) * s);
    m_s.cy = std::clamp(m_s.cy, (my - m_h / 2) * s, t + (m_h / 2 - my) * s);
}

int HeatmapCamera::level(int maxLevel) const {
    int l = 0;
    // 1e-9: a view of exactly 2^k tokens per pixel stays at level k (cells of exactly one pixel).
    while (l < maxLevel && std::ldexp(1.0, l) < m_s.tokensPerPixel * (1 - 1e-9))
        ++l;
    return std::clamp(l, 0, std::max(maxLevel, 0));
}

int HeatmapCamera::overviewLevel(int64_t tokens, int64_t tileSide) {
    int l = 0;
    while (core::pyramidSize(tokens, l) > tileSide)
        ++l;
    return l;
}

int HeatmapCamera::maxLevelFor(int64_t tokens) {
    int l = 0;
    while (core::pyramidSize(tokens, l) > 1)
        ++l;
    return l;
}

TileRange HeatmapCamera::visibleTiles(int level, int64_t tileSide) const {
    TileRange r;
    r.level = level, r.tileSide = tileSide;
    const int64_t n = core::pyramidSize(m_tokens, level);
    const double cell = std::ldexp(1.0, level);
    const CamVec a = pixelToToken({0, 0}), b = pixelToToken({m_w, m_h});
    auto cells = [&](double t0, double t1, int64_t& c0, int64_t& c1) {
        c0 = std::clamp<int64_t>(int64_t(std::floor(t0 / cell)), 0, n);
        c1 = std::clamp<int64_t>(int64_t(std::ceil(t1 / cell)), 0, n);
    };
    int64_t r0, r1, c0, c1;
    cells(a.y, b.y, r0, r1);
    cells(a.x, b.x, c0, c1);
    r.row0 = r0 / tileSide, r.row1 = (r1 + tileSide - 1) / tileSide;
    r.col0 = c0 / tileSide, r.col1 = (c1 + tileSide - 1) / tileSide;
    if (r0 >= r1 || c0 >= c1) r.row1 = r.row0, r.col1 = r.col0;
    return r;
}

std::vector<std::pair<int64_t, int64_t>> orderedTiles(const TileRange& range, const HeatmapCamera& camera) {
    std::vector<std::pair<int64_t, int64_t>> out;
    if (range.empty()) return out;
    // Tile (tr, tc) holds cells (i, j) with i, j in [t*side, (t+1)*side): some j <= i exactly when tc <= tr.
    for (int64_t tr = range.row0; tr < range.row1; ++tr)
        for (int64_t tc = range.col0; tc < std::min(range.col1, tr + 1); ++tc)
            out.emplace_back(tr, tc);
    const double span = std::ldexp(double(range.tileSide), range.level);
    const CamVec centre = camera.pixelToToken({camera.width() / 2, camera.height() / 2});
    auto distance = [&](const std::pair<int64_t, int64_t>& t) {
        const double dy = (double(t.first) + 0.5) * span - centre.y, dx = (double(t.second) + 0.5) * span - centre.x;
        return dx * dx + dy * dy;
    };
    std::stable_sort(out.begin(), out.end(), [&](const auto& a, const auto& b) { return distance(a) < distance(b); });
    return out;
}

double scaleLinear(double v, double vmax) {
    return vmax > 0 ? std::clamp(v / vmax, 0.0, 1.0) : 0.0;
}

double scaleLog(double v, double vmax, double floor) {
    const double vmin = vmax * floor;
    if (!(vmax > 0) || !(v > vmin)) return 0.0;
    return std::clamp(std::log10(v / vmin) / std::log10(vmax / vmin), 0.0, 1.0);
}

double scaleRow(double v, double rowMax) {
    return rowMax > 0 ? std::clamp(v / rowMax, 0.0, 1.0) : 0.0;
}

double scaleDiff(double d, double range) {
    return range > 0 ? std::clamp(0.5 + 0.5 * d / range, 0.0, 1.0) : 0.5;
}

double scaleValue(HeatmapScale scale, double v, double vmax, double rowMax) {
    switch (scale) {
    case HeatmapScale::Linear:
        return scaleLinear(v, vmax);
    case HeatmapScale::Log:
        return scaleLog(v, vmax);
    case HeatmapScale::Row:
        return scaleRow(v, rowMax);
    }
    return 0.0;
}

void divergingRgb(double t, float rgb[3]) {
    const Rgb c = divergingColour(t);
    rgb[0] = c.r, rgb[1] = c.g, rgb[2] = c.b;
}

} // namespace attnscope::views

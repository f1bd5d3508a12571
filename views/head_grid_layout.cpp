#include "head_grid_layout.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace attnscope::views {

HeadGridLayout::HeadGridLayout(int64_t layers, int64_t heads, int64_t kvHeads, float width, float height,
                               const HeadGridOptions& options)
    : m_layers(std::max<int64_t>(layers, 0)), m_heads(std::max<int64_t>(heads, 0)), m_options(options) {
    const bool gqa = kvHeads > 0 && kvHeads < m_heads && m_heads % kvHeads == 0;
    m_groups = gqa ? kvHeads : 1;
    m_groupSize = m_groups > 0 ? m_heads / m_groups : m_heads;
    if (m_layers == 0 || m_heads == 0) return;
    const float gaps = float(m_heads - 1) * options.gap + float(m_groups - 1) * options.groupGap;
    // Whole pixels, so that every gap is exactly `gap` pixels wide on screen.
    const float fitW = std::floor((width - options.labelWidth - gaps) / float(m_heads));
    const float fitH =
        std::floor((height - options.headerHeight - float(m_layers - 1) * options.gap) / float(m_layers));
    m_cellW = std::clamp(fitW, options.minCell, std::max(options.minCell, options.maxCellWidth));
    m_cellH = std::clamp(fitH, options.minCell, std::max(options.minCell, options.maxCellHeight));
}

GridRect HeadGridLayout::cell(int64_t layer, int64_t head) const {
    const int64_t g = head / m_groupSize, k = head % m_groupSize;
    const float x = m_options.labelWidth + float(g) * groupPitch() + float(k) * (m_cellW + m_options.gap);
    const float y = m_options.headerHeight + float(layer) * (m_cellH + m_options.gap);
    return {x, y, x + m_cellW, y + m_cellH};
}

GridRect HeadGridLayout::group(int64_t kvHead) const {
    const float x = m_options.labelWidth + float(kvHead) * groupPitch();
    return {x, 0, x + groupWidth(), m_options.headerHeight};
}

GridRect HeadGridLayout::cells() const {
    if (m_layers == 0 || m_heads == 0)
        return {m_options.labelWidth, m_options.headerHeight, m_options.labelWidth, m_options.headerHeight};
    const GridRect first = cell(0, 0), last = cell(m_layers - 1, m_heads - 1);
    return {first.x0, first.y0, last.x1, last.y1};
}

GridRect HeadGridLayout::layerLabel(int64_t layer) const {
    const GridRect c = cell(layer, 0);
    return {0, c.y0, m_options.labelWidth, c.y1};
}

std::optional<HeadId> HeadGridLayout::hit(float x, float y) const {
    if (m_layers == 0 || m_heads == 0 || !cells().contains(x, y)) return std::nullopt;
    const float rowPitch = m_cellH + m_options.gap;
    const float ry = y - m_options.headerHeight;
    const auto layer = int64_t(std::floor(ry / rowPitch));
    if (ry - float(layer) * rowPitch >= m_cellH) return std::nullopt;
    const float rx = x - m_options.labelWidth;
    const auto g = int64_t(std::floor(rx / groupPitch()));
    const float gx = rx - float(g) * groupPitch();
    if (gx >= groupWidth()) return std::nullopt;
    const float colPitch = m_cellW + m_options.gap;
    const auto k = int64_t(std::floor(gx / colPitch));
    if (gx - float(k) * colPitch >= m_cellW) return std::nullopt;
    const int64_t head = g * m_groupSize + k;
    if (layer < 0 || layer >= m_layers || head < 0 || head >= m_heads) return std::nullopt;
    return HeadId{layer, head};
}

float metricFraction(double v, double vmin, double vmax) {
    if (std::isnan(v)) return NAN;
    if (!(vmax > vmin)) return 0.5f;
    return float(std::clamp((v - vmin) / (vmax - vmin), 0.0, 1.0));
}

std::pair<double, double> finiteRange(std::span<const double> values) {
    bool any = false;
    double lo = 0, hi = 1;
    for (double v : values)
        if (std::isfinite(v)) {
            lo = any ? std::min(lo, v) : v;
            hi = any ? std::max(hi, v) : v;
            any = true;
        }
    if (!any) return {0.0, 1.0};
    if (hi <= lo) hi = lo + 1.0;
    return {lo, hi};
}

std::vector<HeadValue> sortHeads(std::span<const double> values, int64_t layers, int64_t heads, HeadSortKey key,
                                 bool descending) {
    std::vector<HeadValue> rows;
    for (int64_t l = 0; l < layers; ++l)
        for (int64_t h = 0; h < heads; ++h) {
            const size_t i = size_t(l * heads + h);
            rows.push_back({l, h, i < values.size() ? values[i] : NAN});
        }
    auto primary = [key](const HeadValue& r) {
        return key == HeadSortKey::Layer ? double(r.layer) : key == HeadSortKey::Head ? double(r.head) : r.value;
    };
    std::stable_sort(rows.begin(), rows.end(), [&](const HeadValue& a, const HeadValue& b) {
        const double x = primary(a), y = primary(b);
        if (std::isnan(x) != std::isnan(y)) return std::isnan(y); // NaN last in both directions
        if (!std::isnan(x) && x != y) return descending ? x > y : x < y;
        if (key == HeadSortKey::Head && a.layer != b.layer) return a.layer < b.layer;
        return a.layer != b.layer ? a.layer < b.layer : a.head < b.head;
    });
    return rows;
}

std::string formatMetricValue(double v) {
    if (std::isnan(v)) return "not yet";
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.4g", v);
    return buffer;
}

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = char(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// A whole non-negative integer, or nullopt.
std::optional<int64_t> wholeNumber(std::string_view s) {
    if (s.empty() || s.size() > 9 || !std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(c); }))
        return std::nullopt;
    return std::strtoll(std::string(s).c_str(), nullptr, 10);
}

bool termMatches(const std::string& term, const HeadValue& head) {
    // "l2", "h5", "l2h5"
    if (term[0] == 'l' || term[0] == 'h') {
        const size_t hPos = term[0] == 'l' ? term.find('h') : 0;
        const std::string layerPart = term[0] == 'l' ? term.substr(1, hPos == std::string::npos ? hPos : hPos - 1) : "";
        const std::string headPart = hPos == std::string::npos ? "" : term.substr(hPos + 1);
        const auto layer = wholeNumber(layerPart), h = wholeNumber(headPart);
        const bool wantLayer = term[0] == 'l', wantHead = hPos != std::string::npos;
        if ((wantLayer && !layer) || (wantHead && !h)) return false;
        return (!wantLayer || *layer == head.layer) && (!wantHead || *h == head.head);
    }
    if (term == "nan") return std::isnan(head.value);
    if (term[0] == '>' || term[0] == '<') {
        const bool orEqual = term.size() > 1 && term[1] == '=';
        const std::string number = term.substr(orEqual ? 2 : 1);
        char* end = nullptr;
        const double bound = std::strtod(number.c_str(), &end);
        if (number.empty() || *end != '\0' || std::isnan(head.value)) return false;
        if (term[0] == '>') return orEqual ? head.value >= bound : head.value > bound;
        return orEqual ? head.value <= bound : head.value < bound;
    }
    return !std::isnan(head.value) && lower(formatMetricValue(head.value)).find(term) != std::string::npos;
}

} // namespace

bool headMatches(std::string_view filter, const HeadValue& head) {
    const std::string text = lower(filter);
    size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])))
            ++i;
        size_t j = i;
        while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j])))
            ++j;
        if (j > i && !termMatches(text.substr(i, j - i), head)) return false;
        i = j;
    }
    return true;
}

} // namespace attnscope::views

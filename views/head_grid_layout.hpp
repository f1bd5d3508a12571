#pragma once
// Pure geometry and ordering of the layer x head grid: cell rectangles in pixels relative to the grid's top-left (layer
// 0 on top, heads left to right, GQA heads grouped per KV head with a wider gap), pixel -> head hit test, the metric's
// colour fraction, and the "top heads" list (sort, filter text). No ImGui.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace attnscope::views {

struct GridRect {
    float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    float width() const { return x1 - x0; }
    float height() const { return y1 - y0; }
    bool contains(float x, float y) const { return x >= x0 && x < x1 && y >= y0 && y < y1; }
};

struct HeadId {
    int64_t layer = 0, head = 0;
    bool operator==(const HeadId&) const = default;
};

struct HeadGridOptions {
    float gap = 1;           // background pixels between neighbouring cells (screenshot tests count cells by it)
    float groupGap = 6;      // extra pixels between KV-head groups
    float labelWidth = 32;   // left margin for the layer labels
    float headerHeight = 18; // top margin for head numbers and KV-group headers
    float minCell = 3, maxCellWidth = 48, maxCellHeight = 28;
};

// Cells sized to fill `width` x `height` (whole pixels, clamped to [minCell, maxCell*]); when the clamp makes the
// grid larger than the space, contentWidth()/contentHeight() say how much to scroll.
class HeadGridLayout {
public:
    HeadGridLayout() = default;
    HeadGridLayout(int64_t layers, int64_t heads, int64_t kvHeads, float width, float height,
                   const HeadGridOptions& options = {});

    int64_t layers() const { return m_layers; }
    int64_t heads() const { return m_heads; }
    // Grouped when 0 < kvHeads < heads and kvHeads divides heads (GQA); one group otherwise.
    bool grouped() const { return m_groups > 1; }
    int64_t groups() const { return m_groups; }
    int64_t groupSize() const { return m_groupSize; }
    float cellWidth() const { return m_cellW; }
    float cellHeight() const { return m_cellH; }
    const HeadGridOptions& options() const { return m_options; }

    GridRect cell(int64_t layer, int64_t head) const;
    GridRect group(int64_t kvHead) const;     // the header strip above KV group kvHead
    GridRect cells() const;                   // bounding box of every cell
    GridRect layerLabel(int64_t layer) const; // left of the row
    float contentWidth() const { return cells().x1; }
    float contentHeight() const { return cells().y1; }
    // The head under (x, y), nullopt in gaps, labels and outside.
    std::optional<HeadId> hit(float x, float y) const;

private:
    int64_t m_layers = 0, m_heads = 0, m_groups = 1, m_groupSize = 0;
    float m_cellW = 0, m_cellH = 0;
    HeadGridOptions m_options;
    float groupWidth() const { return float(m_groupSize) * m_cellW + float(m_groupSize - 1) * m_options.gap; }
    float groupPitch() const { return groupWidth() + m_options.gap + m_options.groupGap; }
};

// (v - vmin) / (vmax - vmin) clamped to [0, 1]; NaN stays NaN (the "not yet" cell); 0.5 when vmax <= vmin.
float metricFraction(double v, double vmin, double vmax);
// Smallest and largest finite value; {0, 1} when none, {v, v + 1} when all equal.
std::pair<double, double> finiteRange(std::span<const double> values);

struct HeadValue {
    int64_t layer = 0, head = 0;
    double value = 0;
};

enum class HeadSortKey { Value, Layer, Head };

// Every head of values [layer][head] sorted by key (ascending or not); NaN values always last; ties by (layer, head).
std::vector<HeadValue> sortHeads(std::span<const double> values, int64_t layers, int64_t heads, HeadSortKey key,
                                 bool descending);

// The value as the list and the tooltip print it: 4 significant digits, "not yet" for NaN.
std::string formatMetricValue(double v);

// Filter text: terms separated by spaces, all must hold (case-insensitive). "L2" layer 2, "H5" head 5, "L2H5" both,
// ">0.5" / "<0.5" / ">=0.5" / "<=0.5" compare the value, "nan" a head with no value yet; any other term must occur in
// the printed value (so "2.5" finds 2.5, 12.53, ...). An empty filter matches everything.
bool headMatches(std::string_view filter, const HeadValue& head);

} // namespace attnscope::views

#pragma once
// The overview grid: every head of the run as a layer x head cell coloured by one per-head metric (the run's own or a
// live one from ExplorerState::liveMetrics, NaN drawn as "not yet"), with a legend, hover tooltip (value and the
// head's thumbnail), click to select, ctrl-click to pick, KV-head groups for GQA, and a sortable, filterable list of
// heads by the metric. UI thread only; reads the RunSnapshot, never the file.
#include "colormap.hpp"
#include "explorer_state.hpp"
#include "head_grid_layout.hpp"
#include "view_base.hpp"

#include <array>
#include <string>
#include <vector>

namespace attnscope::views {

class ViewHeadGrid : public ViewBase {
public:
    explicit ViewHeadGrid(ExplorerState& state, std::string name = "Heads");

    // Where the cells were drawn in the last frame, in screen pixels (layout() cells offset by the grid's origin);
    // empty before the first frame with a run. Neighbouring cells are separated by options().gap background pixels.
    GridRect cellsScreenRect() const;
    GridRect cellScreenRect(int64_t layer, int64_t head) const;
    const HeadGridLayout& layout() const { return m_layout; }
    // The metric on screen, when it is stored in the run (live sweep results are not).
    std::optional<FigureRequest> figureRequest() const override;
    // The metric shown: its values [layer][head] and range; null when the run has none.
    const HeadMetric* shownMetric() const;

protected:
    void drawContent() override;

private:
    void drawControls();
    void drawGrid(const HeadMetric& metric, double vmin, double vmax);
    void drawLegend(const HeadMetric& metric, double vmin, double vmax);
    void drawTooltip(const HeadId& id, const HeadMetric& metric);
    void drawHeadList(const HeadMetric& metric);
    void select(int64_t layer, int64_t head, bool toggle);

    ExplorerState& m_state;
    Colormap m_colormap = Colormap::Viridis;
    HeadGridLayout m_layout;
    float m_originX = 0, m_originY = 0;
    bool m_drawn = false;
    std::array<char, 96> m_filter{};
};

} // namespace attnscope::views

#pragma once
// The heatmap window: layer/head pickers (the selected head of ExplorerState), colormap and scale, "max cell", a
// colour bar, the zoom readout and a help tooltip with the shortcuts, around one HeatmapCanvas of state.run.
#include "heatmap_canvas.hpp"
#include "view_base.hpp"

namespace attnscope::views {

class ViewHeatmap : public ViewBase {
public:
    explicit ViewHeatmap(ExplorerState& state);
    HeatmapCanvas& canvas() { return m_canvas; }

protected:
    void drawContent() override;

private:
    void drawToolbar();

    ExplorerState& m_state;
    HeatmapCanvas m_canvas;
};

} // namespace attnscope::views

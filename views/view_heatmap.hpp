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
    // The head, colours and visible token range on screen (the whole map when it is all in view).
    std::optional<FigureRequest> figureRequest() const override;

protected:
    void drawContent() override;

private:
    void drawToolbar();

    ExplorerState& m_state;
    HeatmapCanvas m_canvas;
};

} // namespace attnscope::views

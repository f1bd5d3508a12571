#pragma once
// Compare view (issue 8 item 8): ExplorerState::run (A) and ExplorerState::compare (B) side by side with one shared
// camera (pan and zoom move both), or as B - A on a diverging map when their shapes and lengths match (else it says
// why not). The second run opens through ExplorerState::openRun(path, true). UI thread only; GL (HeatmapCanvas).
#include "explorer_state.hpp"
#include "heatmap_camera.hpp"
#include "view_base.hpp"

#include <memory>
#include <optional>
#include <string>

namespace attnscope::views {

class HeatmapCanvas;

class ViewCompare : public ViewBase {
public:
    enum class Mode { SideBySide, Difference };

    explicit ViewCompare(ExplorerState& state);
    ~ViewCompare() override;

    Mode mode = Mode::SideBySide;
    // Why the difference cannot be shown right now (no second run, other shape or length); empty when it can.
    std::string differenceProblem() const;
    // What is on screen: the difference as a heatmap of B minus A, or the two runs side by side (view "compare"),
    // over the shared camera's visible tokens, with the canvas's colormap, scale and clipping.
    std::optional<FigureRequest> figureRequest() const override;

protected:
    void drawContent() override;

private:
    void drawRunLine(const char* label, const OpenRun& run);
    void syncCameras(); // whichever camera moved this frame moves the other

    ExplorerState& m_state;
    std::string m_secondPath;
    std::unique_ptr<HeatmapCanvas> m_a, m_b, m_diff;
    HeatmapCamera::State m_syncedA, m_syncedB;
};

} // namespace attnscope::views

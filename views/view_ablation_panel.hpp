#pragma once
// Ablation panel (issue 8 item 7): the heads picked in the grid, ablated by a chosen method on the run's tokens; the
// change in output (loss, Δloss, KL, Ships, the target's logit, the top next tokens before/after) appears shortly
// after each change; a sweep ablates every head alone and fills ExplorerState::liveMetrics as heads finish.
// UI thread only; the model runs on the ModelWorker.
#include "explorer_state.hpp"
#include "intervene/ablation_experiment.hpp"
#include "model_worker.hpp"
#include "panel_math.hpp"
#include "view_base.hpp"

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace attnscope::views {

// One ablation measured on one text, with the last position's top next tokens before and after.
struct AblationPreview {
    core::AblationMetrics metrics;
    double baseLoss = 0;
    int32_t target = -1;
    std::vector<TokenProb> before, after;
    std::map<int32_t, std::string> pieces; // text of every token named above
};

// Worker side: runAblation on `ids` plus the two last-position distributions. Throws runAblation's errors.
AblationPreview runAblationPreview(core::Transformer& model, const std::vector<int32_t>& ids,
                                   const core::AblationParams& params, core::Progress& progress);

// Per-head results a sweep publishes while it runs (worker writes, UI drains).
struct SweepResults {
    struct Row {
        int64_t layer, head;
        core::AblationMetrics metrics;
    };
    std::mutex mutex;
    std::vector<Row> rows;
};

class ViewAblationPanel : public ViewBase {
public:
    ViewAblationPanel(ExplorerState& state, ModelWorker& worker);

    // Polls the preview and the sweep and publishes sweep results into ExplorerState::liveMetrics; drawContent()
    // calls it, and the app may call it each frame so that a sweep fills the grid while this window is hidden.
    void update(double now);
    void update(); // update(ImGui::GetTime())

    core::AblationMethod method = core::AblationMethod::Zero;
    double epsilon = 1e-5;

    // Starts a sweep of every head alone (false with message() when no run or model).
    bool startSweep();
    void cancelSweep();
    bool sweeping() const { return m_sweep != nullptr; }
    bool previewing() const { return m_preview != nullptr || m_debounce.pending(); }
    const std::optional<AblationPreview>& preview() const { return m_result; }
    const std::string& message() const { return m_message; }
    // The last result (loss before and after, the edit's measures) as a before/after figure.
    std::optional<FigureRequest> figureRequest() const override;
    // Live metric names the sweep publishes, "ablation/<metric> (live)".
    static std::string liveName(const std::string& metric) { return "ablation/" + metric + " (live)"; }

protected:
    void drawContent() override;

private:
    struct Key {
        std::filesystem::path run;
        core::AblationMethod method;
        double epsilon;
        std::vector<std::pair<int64_t, int64_t>> heads;
        bool operator==(const Key&) const = default;
    };
    core::AblationParams params() const;
    bool modelReady(); // ensures the worker has ExplorerState::modelPath; false with m_message when there is none
    void startPreview();
    void drainSweep();
    void drawPreview();

    ExplorerState& m_state;
    ModelWorker& m_worker;
    Debouncer m_debounce{0.15};
    Key m_key;
    std::shared_ptr<WorkerJob<AblationPreview>> m_preview;
    std::optional<AblationPreview> m_result;
    std::shared_ptr<WorkerJob<int>> m_sweep;
    std::shared_ptr<SweepResults> m_sweepRows;
    SweepTable m_tables[4];
    std::string m_message;
};

} // namespace attnscope::views

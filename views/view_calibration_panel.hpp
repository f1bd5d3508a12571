#pragma once
// Calibration panel (issue 8 item 6): ACT on the picked, screened or default heads with β and the sink threshold on
// sliders; each setting (debounced, a newer one cancels the older) re-captures the run's tokens with the calibration
// on the ModelWorker into a temporary run, then shows before/after: next-token distribution, loss, and the selected
// head's heatmaps before, after and their difference (one shared camera). UI thread only.
#include "explorer_state.hpp"
#include "intervene/attention_edit.hpp"
#include "model_worker.hpp"
#include "panel_math.hpp"
#include "view_base.hpp"

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace attnscope::views {

class HeatmapCanvas;

// A calibrated capture of a run's tokens, read back as a snapshot (worker side).
struct CalibratedRun {
    std::shared_ptr<const RunSnapshot> snapshot;
    std::map<int32_t, std::string> pieces; // text of every token in the top-k of either run
};

// Worker side: captureRun(ids, edits = act) into `out`, then loadRunSnapshot(out); pieces for the ids of
// before.topkIds and the new run's. Throws captureRun's and the reader's errors; Cancelled leaves no file.
CalibratedRun runCalibratedCapture(core::Transformer& model, const std::vector<int32_t>& ids,
                                   const core::ActCalibration& act, const std::filesystem::path& out,
                                   const std::vector<int32_t>& beforeTopIds, core::Progress& progress);

class ViewCalibrationPanel : public ViewBase {
public:
    enum class HeadSource { Picked, Screened, ActDefault };

    ViewCalibrationPanel(ExplorerState& state, ModelWorker& worker);
    ~ViewCalibrationPanel() override; // removes its temporary runs

    // Polls the jobs and starts a re-run once the settings rest; drawContent() calls it.
    void update(double now);
    void update(); // update(ImGui::GetTime())

    HeadSource source = HeadSource::ActDefault;
    float beta = 0.4f, threshold = 0.1f;
    bool showHeatmaps = true; // false: no GL drawing (headless tests)

    // Screens every head of layers 2..L-2 alone on the run's text (core::runCalibration); the kept heads become the
    // "screened" source.
    bool startScreening();
    // The calibration the next re-run applies; nullopt when the source has no heads yet.
    std::optional<core::ActCalibration> calibration() const;
    bool running() const { return m_job != nullptr || m_debounce.pending(); }
    bool screening() const { return m_screen != nullptr; }
    const OpenRun& calibrated() const { return m_after; }
    const std::vector<core::HeadRef>& screenedHeads() const { return m_screened; }
    const std::string& message() const { return m_message; }
    // The last re-run (mean loss before and after, the calibration) as a before/after figure.
    std::optional<FigureRequest> figureRequest() const override;

protected:
    void drawContent() override;

private:
    struct Key {
        std::filesystem::path run;
        HeadSource source;
        std::vector<std::pair<int64_t, int64_t>> picked;
        std::vector<core::HeadRef> screened;
        float beta, threshold;
        bool operator==(const Key&) const = default;
    };
    void startRun();
    void adopt(CalibratedRun result, std::filesystem::path path);
    void drawDistribution();
    void drawHeatmaps();

    ExplorerState& m_state;
    ModelWorker& m_worker;
    Debouncer m_debounce{0.3};
    std::optional<Key> m_key;
    std::shared_ptr<WorkerJob<CalibratedRun>> m_job;
    std::filesystem::path m_jobPath, m_jobRun;
    std::shared_ptr<WorkerJob<std::vector<core::HeadRef>>> m_screen;
    std::vector<core::HeadRef> m_screened;
    OpenRun m_after;
    std::filesystem::path m_afterPath;
    std::map<int32_t, std::string> m_pieces;
    std::string m_message;
    int m_serial = 0;
    std::shared_ptr<HeatmapCanvas> m_before, m_afterCanvas, m_diff;
};

} // namespace attnscope::views

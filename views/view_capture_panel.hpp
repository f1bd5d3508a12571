#pragma once
// Capture panel (issue 8 item 5): a prompt, the model and device, N tokens to generate and the full-map policy; the
// capture runs on the ModelWorker with a progress bar and Cancel, and the finished run opens as ExplorerState::run.
// UI thread only; nothing here waits on the worker.
#include "capture/capture_job.hpp"
#include "explorer_state.hpp"
#include "model_worker.hpp"
#include "view_base.hpp"

#include <filesystem>
#include <memory>
#include <string>

namespace attnscope::views {

class ViewCapturePanel : public ViewBase {
public:
    ViewCapturePanel(ExplorerState& state, ModelWorker& worker);

    // Polls the running capture (opens its run when done); drawContent() calls it, and the app may call it each
    // frame so that a capture finishes while the window is hidden.
    void update();

    // What the widgets edit (scripts and tests set them directly).
    std::string prompt;
    std::string device = "cpu";
    int generate = 0;
    core::FullMaps full = core::FullMaps::Auto;
    std::filesystem::path outFolder; // empty: runsFolder($XDG_DATA_HOME, $HOME)

    // Starts a capture of `prompt` with ExplorerState::modelPath (loading it first when needed); false with
    // message() set when it cannot start (empty prompt, no model, a capture already running).
    bool startCapture();
    void cancel();
    bool capturing() const { return m_job != nullptr; }
    const std::string& message() const { return m_message; }
    const std::filesystem::path& lastRun() const { return m_lastRun; }

protected:
    void drawContent() override;

private:
    ExplorerState& m_state;
    ModelWorker& m_worker;
    std::string m_modelText; // the path field; copied to ExplorerState::modelPath when edited
    std::filesystem::path m_modelSeen;
    std::shared_ptr<WorkerJobBase> m_load;
    std::shared_ptr<WorkerJob<core::CaptureResult>> m_job;
    std::string m_message;
    bool m_messageIsError = false;
    std::filesystem::path m_lastRun;
};

} // namespace attnscope::views

#pragma once
// The explorer's frame: the main menu, the status bar, every view and panel, opening runs off the UI thread (a
// snapshot job, then a tile loader), the bundled demo, recent files and settings, dropped files, and scripted
// commands for tests. UI thread only; draw() goes between GlWindow::beginFrame() and endFrame().
#include "explorer_settings.hpp"
#include "explorer_state.hpp"
#include "jobs/background_job.hpp"
#include "ui_script.hpp"
#include "view_base.hpp"
#include "view_export_dialog.hpp"
#include "view_open_dialog.hpp"

#include <chrono>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace attnscope::views {

class GlWindow;
class ModelWorker;
class ViewAblationPanel;
class ViewCalibrationPanel;
class ViewCapturePanel;
class ViewHeatmap;
class ViewHeadGrid;
template <typename T> class WorkerJob;

// The bundled resources (organism, prompts): $ATTNSCOPE_RESOURCES, else the source tree's resources/.
std::filesystem::path resourcesFolder();

class Explorer {
public:
    Explorer(GlWindow& window, ExplorerSettings settings, std::filesystem::path settingsFile);
    ~Explorer();

    // A run file opens in the views; a model folder or .gguf becomes the panels' model and its demo capture opens.
    // Errors go to the status bar (one sentence naming the path).
    void open(const std::filesystem::path& path, bool asCompare = false);
    // Captures the demo story with the current model (the bundled organism by default) and opens it.
    void openDemo();
    void draw();
    // The renderer behind "Export figure..." (the app's: views never see Qt); without one the item is hidden.
    void setFigureExporter(FigureExporter exporter);

    // Scripted interactions, run one step per frame by draw(); screenshots are taken by the caller (see
    // pendingScreenshot()) because the frame must be rendered first.
    void runScript(std::vector<ScriptCommand> script);
    bool scriptDone() const {
        return m_script.empty() && m_waitFrames == 0 && !m_waitFor && m_mouse.empty() && !m_exportDialog.busy();
    }
    std::optional<std::string> takeScreenshotRequest();
    // The regions a screenshot test inspects, as JSON: the heatmap's cell rectangle, the grid's, the run's shape.
    std::string regionsJson() const;
    // A run is loading, a demo capture runs, or the heatmap still waits for tiles.
    bool busy() const;
    bool heatmapReady() const;
    ExplorerState& state() { return m_state; }
    ViewHeatmap* heatmap() { return m_heatmap; }
    ViewHeadGrid* grid() { return m_grid; }
    ModelWorker& worker() { return *m_worker; }
    const std::string& lastError() const { return m_lastError; }

private:
    void drawMenu();
    void drawStatusBar();
    void pollJobs();
    void stepScript();
    void scriptViewCommand(const ScriptCommand& c); // commands the views carry out (zoom, pan, click-grid)
    void setStatus(const std::string& message, bool error = false);
    void saveSettingsQuietly();
    std::filesystem::path exportFolder() const;
    void scriptExport(const ScriptCommand& c);

    GlWindow& m_window;
    ExplorerSettings m_settings;
    std::filesystem::path m_settingsFile;
    ExplorerState m_state;
    std::unique_ptr<ModelWorker> m_worker; // before the views: panels hold jobs of it until they are destroyed
    std::vector<std::unique_ptr<ViewBase>> m_views;
    ViewHeatmap* m_heatmap = nullptr;
    ViewHeadGrid* m_grid = nullptr;
    ViewCapturePanel* m_capture = nullptr;
    ViewAblationPanel* m_ablation = nullptr;
    ViewCalibrationPanel* m_calibration = nullptr;
    ViewOpenDialog m_openDialog;
    ViewExportDialog m_exportDialog;

    struct OpenJob {
        std::filesystem::path path;
        bool asCompare = false;
        std::unique_ptr<core::BackgroundJob<RunSnapshot>> job;
    };
    std::vector<OpenJob> m_opening;
    std::shared_ptr<WorkerJob<std::filesystem::path>> m_demo;

    std::string m_status, m_lastError;
    bool m_statusIsError = false;
    bool m_showDemo = false, m_showMetrics = false;

    std::deque<ScriptCommand> m_script;
    int m_waitFrames = 0;
    std::function<bool()> m_waitFor; // a wait-* command's condition
    std::chrono::steady_clock::time_point m_waitUntil;
    std::optional<std::string> m_screenshot;
    struct MouseStep {
        float x = 0, y = 0;
        bool down = false;
    };
    std::deque<MouseStep> m_mouse; // scripted clicks, one step per frame
};

} // namespace attnscope::views

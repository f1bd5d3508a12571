#include "explorer.hpp"

#include "capture/capture_job.hpp"
#include "gl_window.hpp"
#include "jobs/analyze_job.hpp"
#include "model_worker.hpp"
#include "panel_math.hpp"
#include "runtime/transformer.hpp"
#include "tile_loader.hpp"
#include "view_ablation_panel.hpp"
#include "view_calibration_panel.hpp"
#include "view_capture_panel.hpp"
#include "view_compare.hpp"
#include "view_head_grid.hpp"
#include "view_heatmap.hpp"
#include "view_model_info.hpp"
#include "view_sentences.hpp"
#include "view_text.hpp"

#include <GLFW/glfw3.h>
#include <imgui.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cfloat>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace attnscope::views {

namespace {

std::string readText(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) throw core::FileError("Cannot read '" + file.string() + "': no such file.");
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

} // namespace

std::filesystem::path resourcesFolder() {
    if (const char* v = std::getenv("ATTNSCOPE_RESOURCES"); v && *v) return v;
    return ATTNSCOPE_RESOURCES_DIR;
}

Explorer::Explorer(GlWindow& window, ExplorerSettings settings, std::filesystem::path settingsFile)
    : m_window(window), m_settings(std::move(settings)), m_settingsFile(std::move(settingsFile)),
      m_openDialog([this](const std::filesystem::path& p) { open(p); }) {
    m_state.modelPath = m_settings.modelPath.empty() ? resourcesFolder() / "models/organism"
                                                     : std::filesystem::path(m_settings.modelPath);
    m_state.metric = m_settings.metric;
    m_state.openRun = [this](const std::filesystem::path& p, bool asCompare) { open(p, asCompare); };
    m_state.status = [this](const std::string& m) { setStatus(m); };
    m_worker = std::make_unique<ModelWorker>();
    // The first layout (1600 x 1000): grid and heatmap on top, text below, the model panels on the right.
    auto place = [this](std::unique_ptr<ViewBase> view, float x, float y, float w, float h, bool open = true) {
        view->setPlacement(x, y, w, h);
        view->open() = open;
        ViewBase* raw = view.get();
        m_views.push_back(std::move(view));
        return raw;
    };
    m_grid = static_cast<ViewHeadGrid*>(place(std::make_unique<ViewHeadGrid>(m_state), 0, 20, 400, 600));
    m_heatmap = static_cast<ViewHeatmap*>(place(std::make_unique<ViewHeatmap>(m_state), 400, 20, 780, 600));
    place(std::make_unique<ViewText>(m_state), 0, 620, 1180, 358);
    m_capture = static_cast<ViewCapturePanel*>(
        place(std::make_unique<ViewCapturePanel>(m_state, *m_worker), 1180, 20, 420, 300));
    m_ablation = static_cast<ViewAblationPanel*>(
        place(std::make_unique<ViewAblationPanel>(m_state, *m_worker), 1180, 320, 420, 330));
    m_calibration = static_cast<ViewCalibrationPanel*>(
        place(std::make_unique<ViewCalibrationPanel>(m_state, *m_worker), 1180, 650, 420, 328));
    place(std::make_unique<ViewSentences>(m_state), 200, 60, 900, 700, false);
    place(std::make_unique<ViewCompare>(m_state), 150, 40, 1100, 700, false);
    place(std::make_unique<ViewModelInfo>(), 1180, 640, 400, 340, false);
}

Explorer::~Explorer() {
    saveSettingsQuietly();
}

void Explorer::setFigureExporter(FigureExporter exporter) {
    m_exportDialog.setExporter(std::move(exporter));
    for (auto& view : m_views)
        view->setExportHandler([this](const FigureRequest& r) { m_exportDialog.show(r, exportFolder()); });
}

// Figures go beside the run, unless its folder is not writable (a shared data folder): then the working folder.
std::filesystem::path Explorer::exportFolder() const {
    if (!m_state.run) return std::filesystem::current_path();
    const std::filesystem::path folder = m_state.run.snapshot->path.parent_path();
    return ::access(folder.c_str(), W_OK) == 0 ? folder : std::filesystem::current_path();
}

void Explorer::setStatus(const std::string& message, bool error) {
    m_status = message;
    m_statusIsError = error;
    if (error) m_lastError = message;
}

void Explorer::saveSettingsQuietly() {
    if (m_settingsFile.empty()) return;
    int w = 0, h = 0;
    m_window.size(w, h);
    if (w > 0 && h > 0) {
        m_settings.windowWidth = w;
        m_settings.windowHeight = h;
    }
    m_settings.metric = m_state.metric;
    try {
        saveSettings(m_settings, m_settingsFile);
    } catch (const core::Error& e) {
        setStatus(e.what(), true);
    }
}

void Explorer::open(const std::filesystem::path& path, bool asCompare) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        setStatus("Cannot open '" + path.string() + "': no such file or folder.", true);
        return;
    }
    if (isModelPath(path)) {
        m_state.modelPath = path;
        m_settings.modelPath = path.string();
        openDemo();
        return;
    }
    setStatus("Opening " + path.filename().string() + " ...");
    m_opening.push_back({path, asCompare, std::make_unique<core::BackgroundJob<RunSnapshot>>([path](core::Progress&) {
                             return loadRunSnapshot(path);
                         })});
}

void Explorer::openDemo() {
    const std::filesystem::path model = m_state.modelPath;
    const std::filesystem::path prompt = resourcesFolder() / "prompts/demo_story.txt";
    const std::filesystem::path out = runsFolder(std::getenv("XDG_DATA_HOME"), std::getenv("HOME")) /
                                      ("demo-" + model.filename().string() + ".attn.h5");
    setStatus("Capturing the demo story with " + model.filename().string() + " ...");
    m_worker->ensureLoaded(model);
    m_demo = m_worker->submit<std::filesystem::path>("demo",
                                                     [prompt, out](core::Transformer& transformer, core::Progress& p) {
                                                         std::filesystem::create_directories(out.parent_path());
                                                         core::CaptureOptions options;
                                                         options.prompt = readText(prompt);
                                                         options.generate = 4;
                                                         options.out = out;
                                                         core::captureRun(transformer, options, &p);
                                                         core::analyzeRun({out, {}}, &p);
                                                         return out;
                                                     });
}

void Explorer::pollJobs() {
    for (auto it = m_opening.begin(); it != m_opening.end();) {
        if (!it->job->ready()) {
            ++it;
            continue;
        }
        if (it->job->succeeded()) {
            auto snapshot = std::make_shared<const RunSnapshot>(it->job->take());
            OpenRun run{snapshot, std::make_shared<TileLoader>(it->path)};
            if (it->asCompare) {
                m_state.compare = std::move(run);
            } else {
                m_state.run = std::move(run);
                m_state.layer = std::clamp<int64_t>(m_state.layer, 0, std::max<int64_t>(snapshot->layers() - 1, 0));
                m_state.head = std::clamp<int64_t>(m_state.head, 0, std::max<int64_t>(snapshot->heads() - 1, 0));
                if (m_state.token >= snapshot->tokenCount()) m_state.token = -1;
                if (!snapshot->metric(m_state.metric) && !snapshot->metrics.empty())
                    m_state.metric = snapshot->metrics.front().name;
                m_state.liveMetrics.clear();
            }
            m_settings.addRecent(it->path.string());
            setStatus("Opened " + it->path.string() + " (" + std::to_string(snapshot->tokenCount()) + " tokens, " +
                      std::to_string(snapshot->layers()) + " x " + std::to_string(snapshot->heads()) + " heads).");
        } else if (!it->job->wasCancelled()) {
            setStatus(it->job->error(), true);
        }
        it = m_opening.erase(it);
    }
    if (m_demo && m_demo->ready()) {
        if (m_demo->succeeded())
            open(m_demo->take());
        else if (!m_demo->wasCancelled())
            setStatus(m_demo->error(), true);
        m_demo.reset();
    }
    for (const auto& dropped : m_window.takeDroppedPaths())
        open(dropped);
}

bool Explorer::busy() const {
    return !m_opening.empty() || m_demo != nullptr;
}

bool Explorer::heatmapReady() const {
    const HeatmapCanvas& canvas = m_heatmap->canvas();
    return m_state.run && !busy() && canvas.hasContent() && canvas.tilesPending() == 0;
}

void Explorer::draw() {
    pollJobs();
    stepScript();
    // Panels poll their jobs even while their windows are hidden, so a capture opens and a sweep fills the grid.
    m_capture->update();
    m_ablation->update();
    m_calibration->update();
    drawMenu();
    for (auto& view : m_views)
        view->draw();
    m_openDialog.draw();
    m_exportDialog.draw([this](const std::string& message, bool error) { setStatus(message, error); });
    if (m_showMetrics) ImGui::ShowMetricsWindow(&m_showMetrics);
    drawStatusBar();
}

void Explorer::drawMenu() {
    if (!ImGui::BeginMainMenuBar()) return;
    if (ImGui::BeginMenu("File")) {
        if (ImGui::MenuItem("Open...", "Ctrl+O")) m_openDialog.show(std::filesystem::current_path());
        if (ImGui::BeginMenu("Open recent", !m_settings.recentFiles.empty())) {
            for (const auto& f : std::vector<std::string>(m_settings.recentFiles))
                if (ImGui::MenuItem(f.c_str())) open(f);
            ImGui::EndMenu();
        }
        if (ImGui::MenuItem("Open as comparison...", nullptr, false, bool(m_state.run)))
            m_openDialog.show(m_state.run.snapshot->path.parent_path());
        if (ImGui::MenuItem("Demo story")) openDemo();
        if (m_exportDialog.available() && ImGui::BeginMenu("Export figure", bool(m_state.run))) {
            for (auto& view : m_views) {
                const auto request = view->open() ? view->figureRequest() : std::nullopt;
                if (ImGui::MenuItem((view->name() + "...").c_str(), nullptr, false, request.has_value()))
                    m_exportDialog.show(*request, exportFolder());
            }
            ImGui::EndMenu();
        }
        ImGui::Separator();
        if (ImGui::MenuItem("Quit", "Ctrl+Q")) m_window.requestClose();
        ImGui::EndMenu();
    }
    if (ImGui::BeginMenu("View")) {
        for (auto& view : m_views)
            ImGui::MenuItem(view->name().c_str(), nullptr, &view->open());
        ImGui::Separator();
        ImGui::MenuItem("ImGui metrics", nullptr, &m_showMetrics);
        ImGui::EndMenu();
    }
    if (m_state.run) {
        const auto& s = *m_state.run.snapshot;
        ImGui::TextDisabled("  %s  |  %lld tokens  |  %lld layers x %lld heads  |  head L%lldH%lld",
                            s.path.filename().string().c_str(), (long long)s.tokenCount(), (long long)s.layers(),
                            (long long)s.heads(), (long long)m_state.layer, (long long)m_state.head);
    }
    ImGui::EndMainMenuBar();
    const ImGuiIO& io = ImGui::GetIO();
    // ImGui 1.86 indexes keys by the backend's codes (GLFW's), and names only a few of them.
    if (io.KeyCtrl && !io.WantTextInput && ImGui::IsKeyPressed(GLFW_KEY_O, false))
        m_openDialog.show(std::filesystem::current_path());
    if (io.KeyCtrl && ImGui::IsKeyPressed(GLFW_KEY_Q, false)) m_window.requestClose();
}

void Explorer::drawStatusBar() {
    const ImGuiViewport* vp = ImGui::GetMainViewport();
    const float h = ImGui::GetFrameHeight();
    ImGui::SetNextWindowPos(ImVec2(vp->Pos.x, vp->Pos.y + vp->Size.y - h));
    ImGui::SetNextWindowSize(ImVec2(vp->Size.x, h));
    const ImGuiWindowFlags flags = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                                   ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoFocusOnAppearing |
                                   ImGuiWindowFlags_NoBringToFrontOnFocus;
    ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(8, 2));
    if (ImGui::Begin("##status", nullptr, flags)) {
        if (m_demo) {
            ImGui::ProgressBar(m_demo->fraction(), ImVec2(160, 0), m_demo->stage().c_str());
            ImGui::SameLine();
        }
        if (m_statusIsError)
            ImGui::TextColored(ImVec4(1.0f, 0.45f, 0.4f, 1.0f), "%s", m_status.c_str());
        else
            ImGui::TextUnformatted(m_status.c_str());
    }
    ImGui::End();
    ImGui::PopStyleVar();
}

void Explorer::runScript(std::vector<ScriptCommand> script) {
    m_script.assign(std::make_move_iterator(script.begin()), std::make_move_iterator(script.end()));
}

std::optional<std::string> Explorer::takeScreenshotRequest() {
    return std::exchange(m_screenshot, std::nullopt);
}

void Explorer::stepScript() {
    if (!m_mouse.empty()) {
        const MouseStep m = m_mouse.front();
        m_mouse.pop_front();
        m_window.setScriptedMouse(m.x, m.y, m.down);
        if (m_mouse.empty()) m_waitFrames = 1; // one frame for the release to take effect
        return;
    }
    // A scripted session owns the mouse: the real pointer (Xvfb's sits mid-screen) must not hover anything.
    if (!m_script.empty() || m_waitFrames > 0 || m_waitFor) m_window.setScriptedMouse(-FLT_MAX, -FLT_MAX, false);
    if (m_waitFrames > 0) {
        --m_waitFrames;
        return;
    }
    if (m_waitFor) {
        if (!m_waitFor() && std::chrono::steady_clock::now() < m_waitUntil) return;
        m_waitFor = nullptr;
    }
    // Commands run until one waits (frames, tiles, panels) or asks for a screenshot, which the caller takes this frame.
    while (!m_script.empty() && m_waitFrames == 0 && !m_waitFor && !m_screenshot && m_mouse.empty() &&
           !m_exportDialog.busy()) {
        const ScriptCommand c = m_script.front();
        m_script.pop_front();
        if (c.name == "frames") {
            m_waitFrames = int(c.number(0));
        } else if (c.name == "wait-tiles" || c.name == "wait-panels") {
            if (c.name == "wait-tiles")
                m_waitFor = [this] { return heatmapReady(); };
            else
                m_waitFor = [this] {
                    return !m_ablation->previewing() && !m_ablation->sweeping() && !m_calibration->running() &&
                           !m_calibration->screening();
                };
            m_waitUntil = std::chrono::steady_clock::now() +
                          std::chrono::milliseconds(int64_t(1000 * (c.args.empty() ? 30.0 : c.number(0))));
        } else if (c.name == "head") {
            m_state.layer = int64_t(c.number(0));
            m_state.head = int64_t(c.number(1));
        } else if (c.name == "token") {
            m_state.token = int64_t(c.number(0));
        } else if (c.name == "pick") {
            m_state.togglePicked(int64_t(c.number(0)), int64_t(c.number(1)));
        } else if (c.name == "metric") {
            m_state.metric = c.args[0];
        } else if (c.name == "open") {
            open(c.args[0]);
        } else if (c.name == "compare") {
            // compare PATH [side-by-side|difference]
            const std::string mode = c.args.size() > 1 ? c.args[1] : "side-by-side";
            if (mode != "side-by-side" && mode != "difference") {
                setStatus("Script line " + std::to_string(c.line) + ": no compare mode '" + mode +
                              "' (side-by-side or difference).",
                          true);
                continue;
            }
            open(c.args[0], true);
            for (auto& view : m_views)
                if (auto* compare = dynamic_cast<ViewCompare*>(view.get())) {
                    compare->open() = true;
                    compare->mode =
                        mode == "difference" ? ViewCompare::Mode::Difference : ViewCompare::Mode::SideBySide;
                }
        } else if (c.name == "export") {
            scriptExport(c);
        } else if (c.name == "screenshot") {
            m_screenshot = c.args[0];
        } else if (c.name == "quit") {
            m_window.requestClose();
        } else {
            scriptViewCommand(c);
        }
    }
}

} // namespace attnscope::views

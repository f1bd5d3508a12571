// attnscope: the desktop explorer (GLFW + OpenGL 3 + Dear ImGui). Wiring only; views live in views/.
#include "errors.hpp"
#include "explorer.hpp"
#include "gl_window.hpp"
#include "gui_bench.hpp"
#include "gui_figure_export.hpp"
#include "jobs/process_setup.hpp"
#include "model/model_files.hpp"
#include "store/run_reader.hpp"
#include "view_open_dialog.hpp"

#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>

namespace {

namespace views = attnscope::views;

// A path given on the command line is checked before any window opens, so that a bad one gives one sentence and a
// non-zero exit, never a window with an error in it.
void checkInitialPath(const std::filesystem::path& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
        throw attnscope::core::FileError("Cannot open '" + path.string() + "': no such file or folder.");
    if (views::isModelPath(path))
        attnscope::core::loadModelFiles(path);
    else
        attnscope::core::RunReader reader(path, 1 << 20);
}

void writeScreenshot(views::GlWindow& window, views::Explorer& explorer, const std::string& path) {
    views::writePng(window.readPixels(), path);
    std::ofstream(path + ".json") << explorer.regionsJson() << "\n";
}

} // namespace

int main(int argc, char** argv) {
    attnscope::core::configureProcess();
    CLI::App app{"attnscope: explore the attention of transformer language models.\n"
                 "With no argument it captures the bundled organism on its demo story and opens that run."};
    std::string path, script, benchRun;
    int frames = 0;
    bool hidden = false, noSettings = false;
    app.add_option("PATH", path, "a run file (*.attn.h5) to open, or a model folder / .gguf to capture the demo with");
    app.add_option("--frames", frames, "quit after this many frames (0: run until closed)");
    app.add_option("--script", script,
                   "run scripted interactions (one per line: frames N, wait-tiles, head L H, zoom F, pan DX DY, "
                   "click-grid L H, screenshot PNG, quit, ...) and quit when done");
    app.add_option("--bench-frames", benchRun,
                   "open RUN, replay a scripted pan/zoom, print frame-time percentiles and the time to the first "
                   "heatmap, then repeat it while a capture runs on the worker");
    app.add_flag("--hidden", hidden, "do not show the window (tests, benchmarks)");
    app.add_flag("--no-settings", noSettings, "neither read nor write settings and window layout");
    CLI11_PARSE(app, argc, argv);

    try {
        if (!benchRun.empty()) return views::runFrameBench(benchRun, hidden);
        if (!path.empty()) checkInitialPath(path);
        std::vector<views::ScriptCommand> commands;
        if (!script.empty()) commands = views::readUiScript(script);

        const std::filesystem::path folder = noSettings ? std::filesystem::path() : views::settingsFolder();
        const std::filesystem::path settingsFile = folder.empty() ? folder : folder / "settings.json";
        std::string warning;
        views::ExplorerSettings settings =
            settingsFile.empty() ? views::ExplorerSettings() : views::loadSettings(settingsFile, &warning);
        if (!warning.empty()) std::cerr << "attnscope: " << warning << "\n";

        views::GlWindowOptions options;
        options.width = settings.windowWidth;
        options.height = settings.windowHeight;
        options.visible = !hidden;
        options.iniPath = folder.empty() ? "" : (folder / "layout.ini").string();
        views::GlWindow window(options);
        views::Explorer explorer(window, settings, settingsFile);
        explorer.setFigureExporter(attnscope::app::makeFigureExporter());
        if (path.empty())
            explorer.openDemo();
        else
            explorer.open(path);
        const bool scripted = !commands.empty();
        if (scripted) explorer.runScript(std::move(commands));

        for (int frame = 0; !window.shouldClose() && (frames == 0 || frame < frames); ++frame) {
            window.beginFrame();
            explorer.draw();
            window.renderWithoutSwap();
            if (auto shot = explorer.takeScreenshotRequest()) writeScreenshot(window, explorer, *shot);
            window.swap();
            if (scripted && explorer.scriptDone()) break;
        }
        if (scripted && !explorer.lastError().empty()) {
            std::cerr << "attnscope: " << explorer.lastError() << "\n";
            return 1;
        }
    } catch (const attnscope::core::Error& e) {
        std::cerr << "attnscope: " << e.what() << "\n";
        return 2;
    }
    return 0;
}

#include "gui_bench.hpp"

#include "capture/capture_job.hpp"
#include "explorer.hpp"
#include "frame_script.hpp"
#include "gl_window.hpp"
#include "heatmap_canvas.hpp"
#include "model_worker.hpp"
#include "view_heatmap.hpp"

#include <GLFW/glfw3.h>
#include <imgui.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <sys/resource.h>
#include <unistd.h>

namespace attnscope::views {

namespace {

using Clock = std::chrono::steady_clock;

// CPU time of the whole process (every thread: Mesa's rasteriser threads, the tile loader), in ms. On a shared machine
// wall-clock frame times swing with the neighbours' load; CPU time per frame is the steadier measure of our own work.
double cpuMs() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    return (double(u.ru_utime.tv_sec) + double(u.ru_stime.tv_sec)) * 1e3 +
           (double(u.ru_utime.tv_usec) + double(u.ru_stime.tv_usec)) / 1e3;
}

double msSince(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

// Seconds this process lived before main() (loading libtorch, Qt, GL): /proc/self/stat's start time vs uptime.
double secondsBeforeMain() {
    std::ifstream stat("/proc/self/stat"), uptime("/proc/uptime");
    std::string field;
    for (int i = 0; i < 21 && stat >> field; ++i) {
    }
    unsigned long long startTicks = 0;
    double up = 0;
    if (!(stat >> startTicks) || !(uptime >> up)) return 0;
    return up - double(startTicks) / double(::sysconf(_SC_CLK_TCK));
}

// One frame, timed from input to the finished image (glFinish: Mesa renders on the CPU, the time is real work).
double frame(GlWindow& window, Explorer& explorer) {
    const auto t0 = Clock::now();
    window.beginFrame();
    explorer.draw();
    window.renderWithoutSwap();
    glFinish();
    window.swap();
    return msSince(t0);
}

void printPercentiles(const char* name, const std::vector<double>& ms) {
    const FramePercentiles p = framePercentiles(ms);
    std::printf("%s_frames: %zu\n%s_p50_ms: %.2f\n%s_p95_ms: %.2f\n%s_p99_ms: %.2f\n%s_max_ms: %.2f\n", name, p.count,
                name, p.p50, name, p.p95, name, p.p99, name, p.max);
}

} // namespace

int runFrameBench(const std::string& run, bool hidden) {
    const auto launch = Clock::now();
    const double beforeMain = secondsBeforeMain();
    GlWindowOptions options;
    options.visible = !hidden;
    options.vsync = false;
    GlWindow window(options);
    Explorer explorer(window, {}, {});
    explorer.open(run);

    HeatmapCanvas& canvas = explorer.heatmap()->canvas();
    std::vector<double> startup;
    while (!canvas.hasContent() && msSince(launch) < 60000 && explorer.lastError().empty())
        startup.push_back(frame(window, explorer));
    if (!canvas.hasContent()) {
        std::fprintf(stderr, "attnscope: no heatmap appeared for '%s': %s\n", run.c_str(),
                     explorer.lastError().c_str());
        return 1;
    }
    std::printf("first_heatmap_s: %.3f\nbefore_main_s: %.3f\nstartup_frames: %zu\n", msSince(launch) / 1000.0,
                beforeMain, startup.size());
    for (int i = 0; i < 200 && canvas.tilesPending() > 0; ++i)
        frame(window, explorer);

    // The replay twice: first redrawing every pixel of every frame (the baseline), then redrawing what changed.
    auto replay = [&](const char* name, bool fullRedraw) {
        window.setFullRedraw(fullRedraw);
        const HeatmapCamera::State start = canvas.camera()->state();
        FrameScript script;
        std::vector<double> ms;
        const double cpu0 = cpuMs();
        double triangles = 0;
        while (!script.done()) {
            script.apply(*canvas.camera());
            ms.push_back(frame(window, explorer));
            triangles += double(ImGui::GetDrawData()->TotalIdxCount) / 3.0;
        }
        printPercentiles(name, ms);
        const double frames = double(std::max<size_t>(ms.size(), 1));
        std::printf("%s_cpu_ms_per_frame: %.2f\n%s_triangles_per_frame: %.0f\n", name, (cpuMs() - cpu0) / frames, name,
                    triangles / frames);
        canvas.camera()->setState(start);
        window.setFullRedraw(false);
    };
    replay("idle_full_redraw", true);
    replay("idle", false);

    // The same replay while the model worker captures (the bundled organism on a 480-token prompt, again and again).
    ModelWorker& worker = explorer.worker();
    worker.ensureLoaded(resourcesFolder() / "models/organism");
    const auto captureOut = std::filesystem::temp_directory_path() / ("attnscope-bench-" + std::to_string(::getpid()));
    auto startCapture = [&] {
        return worker.submit<int>("bench capture", [captureOut](core::Transformer& model, core::Progress& p) {
            core::CaptureOptions c;
            c.promptIds.assign(480, 4);
            for (size_t i = 0; i < c.promptIds.size(); ++i)
                c.promptIds[i] = int32_t(4 + (i * 7) % 100);
            c.out = captureOut.string() + ".attn.h5";
            core::captureRun(model, c, &p);
            return 1;
        });
    };
    auto job = startCapture();
    while (!job->started() && !job->ready())
        frame(window, explorer);
    FrameScript busy;
    std::vector<double> busyMs;
    int captures = 0;
    while (!busy.done()) {
        busy.apply(*canvas.camera());
        const double ms = frame(window, explorer);
        if (!job->ready()) busyMs.push_back(ms);
        if (job->ready()) {
            captures += job->succeeded();
            job = startCapture();
        }
    }
    job->cancel();
    printPercentiles("capture", busyMs);
    std::printf("captures_during_replay: %d\n", captures);
    std::filesystem::remove(captureOut.string() + ".attn.h5");
    return 0;
}

} // namespace attnscope::views

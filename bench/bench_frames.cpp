// Explorer frame times: captures a short and a long run (T = 512 and 32768, no full maps), replays the explorer's
// scripted pan/zoom on each (`attnscope --bench-frames RUN` on a private Xvfb display, Mesa's software renderer), and
// prints frame-time percentiles, the time to the first heatmap and the long run's numbers as ratios to the short
// run's (the baseline): views ask only for the tiles on screen, so the ratios should stay near 1. Not a test.
//   bench_frames [MODEL [T]]   (default: stories260K from ../shared, else the organism; T = 32768)
// Targets (issue 8): at 32K, p95 frame <= 20 ms, first heatmap <= 1.5 s, no frame over 50 ms while a capture runs.
#include "bench_common.hpp"
#include "child_process.hpp"
#include "jobs/process_setup.hpp"
#include "long_run.hpp"

#include <fmt/core.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>

using attnscope::bench::captureLongRun;
using attnscope::bench::measureInChild;

namespace {

// Runs the explorer's frame benchmark and returns its "name: value" lines as numbers.
std::map<std::string, double> benchFrames(const std::filesystem::path& run) {
    const std::string cmd = std::string(ATTNSCOPE_XVFB) + " " + ATTNSCOPE_GUI + " --hidden --no-settings --bench-frames '" +
                            run.string() + "' 2>&1";
    std::map<std::string, double> values;
    FILE* pipe = ::popen(cmd.c_str(), "r");
    if (!pipe) return values;
    char line[512];
    while (std::fgets(line, sizeof line, pipe)) {
        fmt::print("    {}", line);
        std::istringstream in(line);
        std::string key;
        double v = 0;
        if (std::getline(in, key, ':') && in >> v) values[key] = v;
    }
    ::pclose(pipe);
    return values;
}

} // namespace

int main(int argc, char** argv) {
    attnscope::core::configureProcess();
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    const auto stories = attnscope::bench::stories260K();
    const std::string model = argc > 1                          ? argv[1]
                              : std::filesystem::exists(stories) ? stories.string()
                                                                 : std::string(ATTNSCOPE_RESOURCES_DIR "/models/organism");
    const int64_t T = argc > 2 ? std::atoll(argv[2]) : 32768;
    const auto dir = std::filesystem::temp_directory_path() / "attnscope-bench-frames";
    std::filesystem::create_directories(dir);
    std::map<int64_t, std::map<std::string, double>> results;
    for (const int64_t n : {int64_t(512), T}) {
        const auto run = dir / ("run-" + std::to_string(n) + ".attn.h5");
        if (!std::filesystem::exists(run)) {
            // The capture runs in a child: torch's OpenMP pool must not start in this process before it forks.
            const auto cap = measureInChild([&] { return captureLongRun(model, n, run); });
            fmt::print("captured {} tokens in {:.1f} s\n", n, cap.seconds);
        }
        fmt::print("T = {}:\n", n);
        results[n] = benchFrames(run);
    }
    const auto& base = results[512];
    const auto& longRun = results[T];
    fmt::print("\n{:<28} {:>10} {:>10} {:>8}\n", "measure", "T=512", fmt::format("T={}", T), "ratio");
    for (const auto& [key, value] : longRun) {
        const auto it = base.find(key);
        const double b = it == base.end() ? 0 : it->second;
        fmt::print("{:<28} {:>10.2f} {:>10.2f} {:>8.2f}\n", key, b, value, b > 0 ? value / b : 0.0);
    }
    return longRun.empty() ? 1 : 0;
}

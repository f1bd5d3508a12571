// Analysis cost on a long run kept without full maps: time and peak memory of each analysis in the catalog (what
// `attnscope-cli analyze` runs), each in its own child process, against the capture of the same run as the baseline,
// then of the streaming ones together in one pass over the maps, then of one `analyze` call computing and writing
// them all. Not a test.
//   bench_analyze [MODEL [T]]   (default: stories260K, T = 16384)
#include "bench_common.hpp"
#include "analysis/attention_source.hpp"
#include "capture/capture_job.hpp"
#include "child_process.hpp"
#include "long_run.hpp"
#include "jobs/analysis_catalog.hpp"
#include "jobs/analyze_job.hpp"
#include "jobs/process_setup.hpp"
#include "runtime/transformer.hpp"
#include "store/run_reader.hpp"

#include <fmt/core.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

using namespace attnscope::core;
using attnscope::bench::measureInChild;

using attnscope::bench::since;

namespace {

constexpr double kMemoryBoundGiB = 2.5; // issue 5: a 16K-token run analysed without full maps stays under this

} // namespace

int main(int argc, char** argv) {
    configureProcess();
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    const std::string model =
        argc > 1 ? argv[1]
                 : attnscope::bench::stories260K().string();
    const int64_t T = argc > 2 ? std::atoll(argv[2]) : 16384;
    const auto run =
        std::filesystem::temp_directory_path() / ("bench-analyze-" + std::to_string(::getpid()) + ".attn.h5");
    fmt::print("bench_analyze: {} at T={} captured with --full never; each analysis in its own process\n", model, T);

    const auto cap = measureInChild([&] { return attnscope::bench::captureLongRun(model, T, run); });
    if (!cap.ok) {
        fmt::print("capture failed\n");
        return 1;
    }
    fmt::print("{:<20} {:8.2f} s {:5.2f} GiB  (baseline)\n", "capture", cap.seconds, cap.peakGiB);
    double total = 0;
    std::map<std::string, double> streamedSeconds; // the streaming analyses' times alone
    for (const AnalysisEntry& entry : analysisCatalog()) {
        const auto m = measureInChild([&] {
            RunReader reader(run);
            if (!entry.unavailable(reader).empty()) return -1.0;
            RunAttention attention(reader);
            const auto t0 = std::chrono::steady_clock::now();
            entry.compute(reader, attention);
            return since(t0);
        });
        if (!m.ok) {
            fmt::print("{:<20} failed\n", entry.name);
        } else if (m.seconds < 0) {
            fmt::print("{:<20} not available for this run\n", entry.name);
        } else {
            total += m.seconds;
            if (entry.stream) streamedSeconds[entry.name] = m.seconds;
            fmt::print("{:<20} {:8.2f} s {:5.2f} GiB  {:6.3f}x capture time{}\n", entry.name, m.seconds, m.peakGiB,
                       m.seconds / cap.seconds, m.peakGiB < kMemoryBoundGiB ? "" : "  OVER THE 2.5 GiB BOUND");
        }
    }
    // The streaming analyses alone each re-make every row; analyze makes each row once for all of them.
    double streamedAlone = 0;
    const auto pass = measureInChild([&] {
        RunReader reader(run);
        RunAttention attention(reader);
        std::vector<StreamedAnalysis> streamed;
        for (const AnalysisEntry& entry : analysisCatalog())
            if (entry.stream && entry.unavailable(reader).empty()) streamed.push_back(entry.stream(reader, attention));
        const auto t0 = std::chrono::steady_clock::now();
        runStreamed(streamed, attention);
        return since(t0);
    });
    for (const AnalysisEntry& entry : analysisCatalog())
        if (entry.stream && streamedSeconds.count(entry.name)) streamedAlone += streamedSeconds.at(entry.name);
    fmt::print("{:<20} {:8.2f} s {:5.2f} GiB  {:6.3f}x capture time (the same analyses alone {:.2f} s){}\n",
               "one streaming pass", pass.seconds, pass.peakGiB, pass.seconds / cap.seconds, streamedAlone,
               pass.ok && pass.peakGiB < kMemoryBoundGiB ? "" : "  FAILED OR OVER THE BOUND");
    const auto all = measureInChild([&] {
        const auto t0 = std::chrono::steady_clock::now();
        analyzeRun({run, {}});
        return since(t0);
    });
    fmt::print("{:<20} {:8.2f} s {:5.2f} GiB  {:6.3f}x capture time (sum of the parts {:.2f} s){}\n", "analyze (all)",
               all.seconds, all.peakGiB, all.seconds / cap.seconds, total,
               all.ok && all.peakGiB < kMemoryBoundGiB ? "" : "  FAILED OR OVER THE BOUND");
    std::filesystem::remove(run);
    return 0;
}

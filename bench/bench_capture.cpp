// Capture cost: time and peak memory of (ours) a probed capture to a run file (stats, pyramids, Q/K; --full never)
// against (a) the same forward with no probe and (b) an eager baseline that keeps every layer's [H,T,T] map, as
// Hugging Face's output_attentions does. Each configuration runs in its own child process so that peak RSS is
// its own. Prints ratios against the baselines measured in the same run. Not a test.
#include "bench_common.hpp"
#include "capture/capture_job.hpp"
#include "child_process.hpp"
#include "jobs/process_setup.hpp"
#include "model/model_files.hpp"
#include "model/tokenizer.hpp"
#include "random_llama.hpp"
#include "runtime/attention_hook.hpp"
#include "runtime/transformer.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace attnscope::core;

namespace {

class KeepEverything : public AttentionHook {
public:
    void onProbs(const AttentionBlock&, at::Tensor& probs, const at::Tensor&) override {
        maps.push_back(probs.clone());
    }
    std::vector<at::Tensor> maps;
};

std::vector<int32_t> tokens(const Transformer& m, int64_t T) {
    std::vector<int32_t> ids(T);
    // Ordinary pieces only: byte-fallback ids (3..258 in SentencePiece vocabularies) can decode to NUL bytes.
    const int32_t first = 259;
    for (int64_t i = 0; i < T; ++i)
        ids[i] = first + static_cast<int32_t>((i * 131 + 7) % (m.config().vocabSize - first));
    return ids;
}

// Runs one configuration in this (child) process and returns seconds.
// `model` is a path, or "random" for the in-memory 6x512 Llama.
std::unique_ptr<Transformer> loadModel(const std::string& model, const RuntimeOptions& o) {
    if (model == "random") return std::make_unique<Transformer>(attnscope::bench::randomLlama(), o);
    return Transformer::load(model, o);
}

bool g_fullMaps = false; // --full: the capture keeps full maps too

double runOne(const std::string& mode, const std::string& model, int64_t T) {
    RuntimeOptions o;
    if (mode == "eager") o.attention = AttentionMode::Eager;
    auto m = loadModel(model, o);
    auto ids = tokens(*m, T);
    const auto t0 = std::chrono::steady_clock::now();
    if (mode == "forward") {
        m->forward(ids, nullptr, nullptr, Logits::Last);
    } else if (mode == "eager") {
        KeepEverything keep;
        m->forward(ids, nullptr, &keep, Logits::Last);
    } else {
        CaptureOptions c;
        c.promptIds = ids;
        c.full = g_fullMaps ? FullMaps::Always : FullMaps::Never;
        c.out = std::filesystem::temp_directory_path() / ("bench-capture-" + std::to_string(::getpid()) + ".attn.h5");
        captureRun(*m, c);
        std::filesystem::remove(c.out);
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

using attnscope::bench::Measured;

Measured measure(const std::string& mode, const std::string& model, int64_t T) {
    return attnscope::bench::measureInChild([&] { return runOne(mode, model, T); });
}

int g_repeats = 1; // --repeat N

Measured fastest(const Measured& best, const Measured& run, bool first) {
    if (first || !best.ok) return run;
    if (!run.ok) return best;
    Measured r = run.seconds < best.seconds ? run : best;
    r.peakGiB = std::max(best.peakGiB, run.peakGiB);
    return r;
}

void benchModel(const std::string& model, const std::string& label, const std::vector<int64_t>& lengths,
                bool withEager) {
    // Only the config here: starting torch's OpenMP pool before fork() makes the children hang in libgomp.
    const ModelConfig c = model == "random" ? attnscope::bench::randomLlama().config : loadModelFiles(model).config;
    const double machineGiB = double(::sysconf(_SC_PHYS_PAGES)) * double(::sysconf(_SC_PAGESIZE)) / (1 << 30);
    fmt::print("{} (L={}, H={}, d={}, D={}), {} threads, {:.0f} GiB RAM\n", label, c.nLayers, c.nHeads, c.headDim,
               c.dModel, availableThreads(), machineGiB);
    for (int64_t T : lengths) {
        // Forward and capture alternate, each keeping its fastest run (and its largest peak): on a shared machine the
        // load changes between runs, and the fastest run is the one least disturbed by it.
        Measured fwd, cap;
        for (int r = 0; r < g_repeats; ++r) {
            fwd = fastest(fwd, measure("forward", model, T), r == 0);
            cap = fastest(cap, measure("capture", model, T), r == 0);
        }
        const double eagerNeedGiB = double(c.nLayers) * c.nHeads * double(T) * T * 4 / (1 << 30);
        Measured eager;
        if (withEager && eagerNeedGiB < 0.6 * machineGiB) eager = measure("eager", model, T);
        if (!fwd.ok || !cap.ok) {
            fmt::print("T={:<6} failed (forward {}, capture {})\n", T, fwd.ok ? "ok" : "failed",
                       cap.ok ? "ok" : "failed");
            continue;
        }
        fmt::print("T={:<6} forward {:7.2f} s {:5.2f} GiB | capture {:7.2f} s {:5.2f} GiB ({:.2f}x forward time)", T,
                   fwd.seconds, fwd.peakGiB, cap.seconds, cap.peakGiB, cap.seconds / fwd.seconds);
        if (eager.ok)
            fmt::print(" | eager keep-all {:7.2f} s {:5.2f} GiB (capture memory {:.3f}x of eager)\n", eager.seconds,
                       eager.peakGiB, cap.peakGiB / eager.peakGiB);
        else if (!withEager)
            fmt::print(" | eager keep-all not run (--no-eager)\n");
        else
            fmt::print(" | eager keep-all needs >= {:.1f} GiB for its maps alone: not run\n", eagerNeedGiB);
    }
}

} // namespace

int main(int argc, char** argv) {
    configureProcess();
    std::setvbuf(stdout, nullptr, _IOLBF, 0); // partial results survive an interrupted run
    const std::string stories = attnscope::bench::stories260K().string();
    // bench_capture [--no-eager] [--full] [--repeat N] [MODEL|random [T...]] (options anywhere): one model (and chosen
    // lengths) instead of the default table; --no-eager skips the slow keep-all baseline when only the time ratio is
    // wanted; --full captures full maps as well; --repeat runs forward and capture N times each and keeps the fastest.
    std::vector<std::string> args;
    bool withEager = true;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--no-eager") {
            withEager = false;
        } else if (a == "--full") {
            g_fullMaps = true;
        } else if (a == "--repeat" && i + 1 < argc) {
            g_repeats = std::max(1, std::atoi(argv[++i]));
        } else if (a.rfind("--", 0) == 0) {
            fmt::print(stderr, "Unknown option '{}': use --no-eager, --full, --repeat N, MODEL|random and lengths.\n",
                       a);
            return 2;
        } else {
            args.push_back(a);
        }
    }
    fmt::print("bench_capture: capture (stats, pyramids, Q/K; --full {}) vs. forward without probe vs. eager "
               "keep-all; each in its own process\n",
               g_fullMaps ? "always" : "never");
    std::vector<int64_t> lengths = {1024, 4096, 16384};
    if (args.size() > 1) {
        lengths.clear();
        for (size_t i = 1; i < args.size(); ++i) {
            char* end = nullptr;
            const long long t = std::strtoll(args[i].c_str(), &end, 10);
            if (*end != '\0' || t < 1) {
                fmt::print(stderr, "Length '{}' is not a positive number of tokens.\n", args[i]);
                return 2;
            }
            lengths.push_back(t);
        }
    }
    if (!args.empty()) {
        benchModel(args[0], args[0], lengths, withEager);
        return 0;
    }
    if (std::filesystem::exists(stories))
        benchModel(stories, "stories260K", lengths, withEager);
    else
        fmt::print("stories260K: skipped ({} is absent)\n", stories);
    benchModel("random", "random llama 6x512", lengths, withEager);
    return 0;
}

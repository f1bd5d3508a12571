// Intervention cost on the bundled organism (4 layers x 8 heads) at 512 tokens: a full single-head ablation sweep
// (32 ablated forwards + the base one) and one calibrated re-run (the GUI's live ACT slider needs < 200 ms on
// 2 cores), each as a ratio to a plain forward measured in the same process. Not a test.
// Usage: bench_intervene [organism folder] [threads]
#include "intervene/ablation_experiment.hpp"
#include "intervene/edit_hook.hpp"
#include "jobs/process_setup.hpp"
#include "model/tokenizer.hpp"
#include "runtime/transformer.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>

using namespace attnscope::core;

namespace {

const std::filesystem::path kRepo = std::filesystem::path(__FILE__).parent_path().parent_path();

// Median wall time of `reps` runs, in milliseconds, after one warm-up.
double medianMs(int reps, const std::function<void()>& f) {
    f();
    std::vector<double> ms;
    for (int i = 0; i < reps; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
}

// The demo story repeated until it gives `n` tokens (BOS first).
std::vector<int32_t> storyTokens(const Transformer& model, int64_t n) {
    std::ifstream in(kRepo / "resources" / "prompts" / "demo_story.txt");
    std::stringstream ss;
    ss << in.rdbuf();
    std::vector<int32_t> ids = model.tokenizer().encode(ss.str(), true).ids;
    const std::vector<int32_t> body(ids.begin() + 1, ids.end());
    while (int64_t(ids.size()) < n) ids.insert(ids.end(), body.begin(), body.end());
    ids.resize(size_t(n));
    return ids;
}

} // namespace

int main(int argc, char** argv) {
    configureProcess();
    const std::filesystem::path path = argc > 1 ? argv[1] : kRepo / "resources" / "models" / "organism";
    RuntimeOptions options;
    options.threads = argc > 2 ? std::stoi(argv[2]) : 0;
    auto model = Transformer::load(path, options);
    const int64_t T = std::min<int64_t>(512, model->config().maxPositions);
    const auto ids = storyTokens(*model, T);
    const ModelConfig& c = model->config();
    fmt::print("model {} ({} layers x {} heads), {} tokens, {} threads\n", path.string(), c.nLayers, c.nHeads, T,
               options.threads > 0 ? options.threads : attnscope::core::availableThreads());

    const double plain = medianMs(7, [&] { model->forward(ids); });
    fmt::print("plain forward (all logits)            {:8.1f} ms   1.00x\n", plain);

    auto timeEdits = [&](const std::string& label, const EditSet& edits) {
        const double ms = medianMs(7, [&] {
            EditHook hook(edits, c);
            hook.prepare(*model, ids);
            model->forward(ids, nullptr, &hook);
        });
        fmt::print("{:<38}{:8.1f} ms   {:.2f}x\n", label, ms, ms / plain);
    };
    HeadAblation zero;
    zero.heads = {HeadRef{2, 0}};
    timeEdits("zero ablation of one head", EditSet{{zero}});
    HeadAblation uniform;
    uniform.method = AblationMethod::Uniform;
    uniform.heads = {HeadRef{2, 0}};
    timeEdits("uniform (q = 0) of one head", EditSet{{uniform}});
    ActCalibration act; // the reference's layer gate: layers 2..L-2
    timeEdits("ACT re-run, layers 2..L-2 (default)", EditSet{{act}});
    ActCalibration every;
    for (int64_t l = 0; l < c.nLayers; ++l) every.heads.push_back(HeadRef{l, -1});
    timeEdits("ACT re-run, every head", EditSet{{every}});

    AblationParams sweep;
    sweep.sweep = true;
    const double sweepMs = medianMs(3, [&] { runAblation(*model, ids, sweep); });
    fmt::print("full single-head sweep ({} heads + base) {:8.1f} ms   {:.2f}x ({:.2f}x per forward)\n",
               c.nLayers * c.nHeads, sweepMs, sweepMs / plain, sweepMs / plain / double(c.nLayers * c.nHeads + 1));
    sweep.method = AblationMethod::Mean;
    const double meanMs = medianMs(3, [&] { runAblation(*model, ids, sweep); });
    fmt::print("full mean-ablation sweep                {:8.1f} ms   {:.2f}x\n", meanMs, meanMs / plain);
    return 0;
}

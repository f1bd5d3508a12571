// Forward throughput: our block-wise attention vs. one eager softmax(QKᵀ)V, and the cost of an attached hook.
// Prints tokens/s and ratios against the eager baseline measured in the same process. Not a test.
#include "bench_common.hpp"
#include "model/model_files.hpp"
#include "jobs/process_setup.hpp"
#include "random_llama.hpp"
#include "runtime/attention_hook.hpp"
#include "runtime/transformer.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <random>

using namespace attnscope::core;

namespace {

class NoopHook : public AttentionHook {
public:
    void onProbs(const AttentionBlock&, at::Tensor&, const at::Tensor&) override {}
};

double secondsOf(Transformer& model, const std::vector<int32_t>& ids, AttentionHook* hook) {
    auto t0 = std::chrono::steady_clock::now();
    model.forward(ids, nullptr, hook, Logits::Last);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

void benchModel(const std::string& label, const std::function<ModelFiles()>& files, int reps) {
    RuntimeOptions eagerOpts;
    eagerOpts.attention = AttentionMode::Eager;
    Transformer eager(files(), eagerOpts);
    Transformer ours(files(), RuntimeOptions{});
    NoopHook hook;
    for (int64_t T : {512, 2048}) {
        std::vector<int32_t> ids(T);
        for (int64_t i = 0; i < T; ++i) ids[i] = static_cast<int32_t>((i * 31 + 7) % ours.config().vocabSize);
        // Round-robin over the three variants, so that drift on a shared machine hits all of them alike.
        std::vector<double> e, o, h;
        secondsOf(eager, ids, nullptr), secondsOf(ours, ids, nullptr); // warm-up
        for (int r = 0; r < reps; ++r) {
            e.push_back(secondsOf(eager, ids, nullptr));
            o.push_back(secondsOf(ours, ids, nullptr));
            h.push_back(secondsOf(ours, ids, &hook));
        }
        const double tEager = median(e), tOurs = median(o), tHook = median(h);
        fmt::print("{:<22} T={:<5} eager {:>9.0f} tok/s | blockwise {:>9.0f} tok/s ({:.2f}x eager) | "
                   "+no-op hook {:>9.0f} tok/s (cost {:+.1f}%)\n",
                   label, T, T / tEager, T / tOurs, tEager / tOurs, T / tHook, 100.0 * (tHook / tOurs - 1.0));
    }
}

} // namespace

int main(int argc, char** argv) {
    configureProcess();
    std::setvbuf(stdout, nullptr, _IOLBF, 0); // partial results survive an interrupted run
    const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 7;
    Transformer threadsProbe(attnscope::bench::randomLlama(), RuntimeOptions{}); // sets the thread count as every model does
    fmt::print("bench_forward: median of {} interleaved runs, {} threads; ratios > 1.00x mean faster than eager\n",
               reps, at::get_num_threads());
    const std::filesystem::path stories = attnscope::bench::stories260K();
    if (std::filesystem::exists(stories))
        benchModel("stories260K", [&] { return loadModelFiles(stories); }, reps);
    else
        fmt::print("stories260K: skipped ({} is absent)\n", stories.string());
    benchModel("random llama 6x512", attnscope::bench::randomLlama, reps);
    return 0;
}

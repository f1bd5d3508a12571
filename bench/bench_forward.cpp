// Forward throughput: our block-wise attention vs. one eager softmax(QKᵀ)V, and the cost of an attached hook.
// Prints tokens/s and ratios against the eager baseline measured in the same process. Not a test.
#include "model/model_files.hpp"
#include "runtime/attention_hook.hpp"
#include "runtime/transformer.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>

using namespace attnscope::core;

namespace {

class NoopHook : public AttentionHook {
public:
    void onProbs(const AttentionBlock&, at::Tensor&, const at::Tensor&) override {}
};

// A 6-layer, 512-wide Llama with random weights, built in memory (the vocabulary is kept small so that the
// output projection does not dominate the attention we measure).
ModelFiles randomLlama() {
    ModelFiles f;
    ModelConfig& c = f.config;
    c.modelType = "llama";
    c.nLayers = 6;
    c.dModel = 512;
    c.nHeads = 8;
    c.nKvHeads = 8;
    c.headDim = 64;
    c.dFf = 1376;
    c.vocabSize = 4096;
    c.maxPositions = 4096;
    c.tiedEmbeddings = true;
    std::mt19937 rng(1);
    std::normal_distribution<float> normal(0.0f, 0.05f);
    auto add = [&](const std::string& name, std::vector<int64_t> shape, float base) {
        int64_t n = 1;
        for (auto s : shape) n *= s;
        std::vector<float> v(n);
        for (auto& x : v) x = base + normal(rng);
        f.tensors[name] = makeOwnedF32(shape, std::move(v));
    };
    add("tok_embeddings.weight", {c.vocabSize, c.dModel}, 0);
    add("norm.weight", {c.dModel}, 1);
    for (int l = 0; l < c.nLayers; ++l) {
        const std::string p = "layers." + std::to_string(l) + ".";
        add(p + "attn_norm.weight", {c.dModel}, 1);
        add(p + "ffn_norm.weight", {c.dModel}, 1);
        for (const char* w : {"wq", "wk", "wv", "wo"}) add(p + w + ".weight", {c.dModel, c.dModel}, 0);
        add(p + "w_gate.weight", {c.dFf, c.dModel}, 0);
        add(p + "w_up.weight", {c.dFf, c.dModel}, 0);
        add(p + "w_down.weight", {c.dModel, c.dFf}, 0);
    }
    f.source = "random 6x512 llama";
    f.format = "memory";
    return f;
}

// Median seconds of `reps` forward passes over T tokens after one warm-up.
double timeForward(Transformer& model, int64_t T, AttentionHook* hook, int reps) {
    std::vector<int32_t> ids(T);
    for (int64_t i = 0; i < T; ++i) ids[i] = static_cast<int32_t>((i * 31 + 7) % model.config().vocabSize);
    model.forward(ids, nullptr, hook);
    std::vector<double> times;
    for (int r = 0; r < reps; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        model.forward(ids, nullptr, hook);
        times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

void benchModel(const std::string& label, const std::function<ModelFiles()>& files, int reps) {
    RuntimeOptions eagerOpts;
    eagerOpts.attention = AttentionMode::Eager;
    Transformer eager(files(), eagerOpts);
    Transformer ours(files(), RuntimeOptions{});
    NoopHook hook;
    for (int64_t T : {512, 2048}) {
        const double tEager = timeForward(eager, T, nullptr, reps);
        const double tOurs = timeForward(ours, T, nullptr, reps);
        const double tHook = timeForward(ours, T, &hook, reps);
        fmt::print("{:<22} T={:<5} eager {:>9.0f} tok/s | blockwise {:>9.0f} tok/s ({:.2f}x eager) | "
                   "+no-op hook {:>9.0f} tok/s (cost {:+.1f}%)\n",
                   label, T, T / tEager, T / tOurs, tEager / tOurs, T / tHook, 100.0 * (tHook / tOurs - 1.0));
    }
}

} // namespace

int main(int argc, char** argv) {
    const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
    fmt::print("bench_forward: median of {} runs, {} threads; ratios > 1.00x mean faster than eager\n", reps,
               at::get_num_threads());
    const std::filesystem::path stories = std::filesystem::path(ATTNSCOPE_SHARED_DIR) / "models/stories260K/stories260K.gguf";
    if (std::filesystem::exists(stories))
        benchModel("stories260K", [&] { return loadModelFiles(stories); }, reps);
    else
        fmt::print("stories260K: skipped ({} is absent)\n", stories.string());
    benchModel("random llama 6x512", randomLlama, reps);
    return 0;
}

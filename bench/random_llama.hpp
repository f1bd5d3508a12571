#pragma once
// The benchmarks' realistic-size model: built in memory with random weights, no files, no tokenizer.
#include "model/model_files.hpp"

#include <random>

namespace attnscope::bench {

// A 6-layer, 512-wide Llama with random weights, built in memory (the vocabulary is kept small so that the
// output projection does not dominate the attention we measure).
inline core::ModelFiles randomLlama() {
    core::ModelFiles f;
    core::ModelConfig& c = f.config;
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
        f.tensors[name] = core::makeOwnedF32(shape, std::move(v));
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

} // namespace attnscope::bench

#include "model/expected_tensors.hpp"

#include "errors.hpp"

#include <fmt/format.h>

namespace attnscope::core {

std::vector<ExpectedTensor> expectedTensors(const ModelConfig& c) {
    const bool gpt2 = c.architecture == Architecture::Gpt2;
    const int64_t d = c.dModel, f = c.dFf, qDim = c.nHeads * c.headDim, kvDim = c.nKvHeads * c.headDim;
    std::vector<ExpectedTensor> out;
    // GPT-2's LayerNorms, output projection and MLP carry biases; the Llama family's do not.
    auto add = [&](std::string name, std::vector<int64_t> shape, bool withBias) {
        if (withBias) out.push_back({name + ".bias", {shape[0]}});
        out.push_back({std::move(name) + ".weight", std::move(shape)});
    };
    add("tok_embeddings", {c.vocabSize, d}, false);
    if (gpt2) add("pos_embeddings", {c.maxPositions, d}, false);
    for (int64_t l = 0; l < c.nLayers; ++l) {
        const std::string p = fmt::format("layers.{}.", l);
        add(p + "attn_norm", {d}, gpt2);
        add(p + "wq", {qDim, d}, c.qkvBias);
        add(p + "wk", {kvDim, d}, c.qkvBias);
        add(p + "wv", {kvDim, d}, c.qkvBias);
        add(p + "wo", {d, qDim}, gpt2);
        add(p + "ffn_norm", {d}, gpt2);
        if (!gpt2) add(p + "w_gate", {f, d}, false);
        add(p + "w_up", {f, d}, gpt2);
        add(p + "w_down", {d, f}, gpt2);
    }
    add("norm", {d}, gpt2);
    if (!c.tiedEmbeddings) add("lm_head", {c.vocabSize, d}, false);
    return out;
}

CanonicalName splitCanonical(std::string_view name) {
    CanonicalName out;
    if (name.starts_with("layers.")) {
        name.remove_prefix(7);
        const auto dot = name.find('.');
        out.layer = std::stoll(std::string(name.substr(0, dot)));
        name.remove_prefix(dot + 1);
    }
    const auto dot = name.rfind('.');
    out.module = std::string(name.substr(0, dot));
    out.param = std::string(name.substr(dot + 1));
    return out;
}

std::string shapeString(const std::vector<int64_t>& shape) {
    return fmt::format("[{}]", fmt::join(shape, ", "));
}

const RawTensor& requireTensor(const TensorSet& stored, const std::string& storedName,
                               const std::vector<int64_t>& shape, const ModelConfig& c, const std::string& file) {
    auto it = stored.find(storedName);
    if (it == stored.end())
        throw FormatError(fmt::format("'{}' has no tensor '{}' that a {} model with {} layers needs.", file, storedName,
                                      architectureName(c.architecture), c.nLayers));
    if (it->second.shape != shape)
        throw FormatError(fmt::format("'{}' has tensor '{}' of shape {}, but a {} model with this configuration needs "
                                      "{}.",
                                      it->second.file.empty() ? file : it->second.file, storedName,
                                      shapeString(it->second.shape), architectureName(c.architecture),
                                      shapeString(shape)));
    return it->second;
}

TensorSet collectRenamed(const ModelConfig& c, const TensorSet& stored,
                         const std::function<std::string(std::string_view)>& storedName, const std::string& file) {
    TensorSet out;
    for (const auto& e : expectedTensors(c))
        out.emplace(e.name, requireTensor(stored, storedName(e.name), e.shape, c, file));
    return out;
}

} // namespace attnscope::core

#include "model/hf_weights.hpp"

#include "model/expected_tensors.hpp"

#include <fmt/format.h>

#include <cstring>

namespace attnscope::core {

namespace {

// Rows [begin, begin + count) of a row-major tensor: contiguous, so a view sharing the owner.
RawTensor sliceRows(const RawTensor& t, int64_t begin, int64_t count) {
    const size_t rowBytes = t.nbytes / static_cast<size_t>(t.shape[0]);
    RawTensor out = t;
    out.shape[0] = count;
    out.data = t.data + static_cast<size_t>(begin) * rowBytes;
    out.nbytes = static_cast<size_t>(count) * rowBytes;
    return out;
}

template <typename Word> void transposeWords(const uint8_t* src, uint8_t* dst, int64_t rows, int64_t cols) {
    // Tiles keep both the reads and the writes within a few cache lines.
    constexpr int64_t kTile = 32;
    for (int64_t r0 = 0; r0 < rows; r0 += kTile)
        for (int64_t c0 = 0; c0 < cols; c0 += kTile)
            for (int64_t r = r0; r < std::min(rows, r0 + kTile); ++r)
                for (int64_t c = c0; c < std::min(cols, c0 + kTile); ++c)
                    std::memcpy(dst + (c * rows + r) * sizeof(Word), src + (r * cols + c) * sizeof(Word), sizeof(Word));
}

// Conv1D stores [in, out]; the canonical layout is [out, in]. The copy keeps the dtype (no float32 blow-up).
RawTensor transposed(const RawTensor& t) {
    const int64_t rows = t.shape[0], cols = t.shape[1];
    auto buffer = std::make_shared<std::vector<uint8_t>>(t.nbytes);
    switch (dtypeSize(t.dtype)) {
    case 1:
        transposeWords<uint8_t>(t.data, buffer->data(), rows, cols);
        break;
    case 2:
        transposeWords<uint16_t>(t.data, buffer->data(), rows, cols);
        break;
    case 4:
        transposeWords<uint32_t>(t.data, buffer->data(), rows, cols);
        break;
    default:
        transposeWords<uint64_t>(t.data, buffer->data(), rows, cols);
        break;
    }
    RawTensor out = t;
    out.shape = {cols, rows};
    out.data = buffer->data();
    out.owner = std::move(buffer);
    return out;
}

std::string hfLlamaName(std::string_view canonical, const std::string& prefix) {
    static const std::pair<const char*, const char*> layerModules[] = {
        {"attn_norm", "input_layernorm"}, {"wq", "self_attn.q_proj"}, {"wk", "self_attn.k_proj"},
        {"wv", "self_attn.v_proj"},       {"wo", "self_attn.o_proj"}, {"ffn_norm", "post_attention_layernorm"},
        {"w_gate", "mlp.gate_proj"},      {"w_up", "mlp.up_proj"},    {"w_down", "mlp.down_proj"}};
    const auto n = splitCanonical(canonical);
    if (n.layer >= 0) {
        for (const auto& [ours, theirs] : layerModules)
            if (n.module == ours) return fmt::format("{}layers.{}.{}.{}", prefix, n.layer, theirs, n.param);
    }
    if (n.module == "tok_embeddings") return prefix + "embed_tokens." + n.param;
    if (n.module == "norm") return prefix + "norm." + n.param;
    return n.module + "." + n.param; // lm_head sits outside the base model's prefix
}

TensorSet gpt2Tensors(const ModelConfig& c, const TensorSet& stored, const std::string& file) {
    // GPT2LMHeadModel saves "transformer.wte.weight"; a bare GPT2Model saves "wte.weight".
    const std::string prefix = stored.count("transformer.wte.weight") ? "transformer." : "";
    auto need = [&](const std::string& name, std::vector<int64_t> shape) -> const RawTensor& {
        return requireTensor(stored, prefix + name, shape, c, file);
    };
    const int64_t d = c.dModel, f = c.dFf;
    TensorSet out;
    out["tok_embeddings.weight"] = need("wte.weight", {c.vocabSize, d});
    out["pos_embeddings.weight"] = need("wpe.weight", {c.maxPositions, d});
    for (int64_t l = 0; l < c.nLayers; ++l) {
        const std::string h = fmt::format("h.{}.", l), L = fmt::format("layers.{}.", l);
        out[L + "attn_norm.weight"] = need(h + "ln_1.weight", {d});
        out[L + "attn_norm.bias"] = need(h + "ln_1.bias", {d});
        // c_attn's output columns are q, then k, then v: after the transpose they are three row blocks.
        const RawTensor qkv = transposed(need(h + "attn.c_attn.weight", {d, 3 * d}));
        const RawTensor& qkvBias = need(h + "attn.c_attn.bias", {3 * d});
        const char* const names[] = {"wq", "wk", "wv"};
        for (int i = 0; i < 3; ++i) {
            out[L + names[i] + ".weight"] = sliceRows(qkv, i * d, d);
            out[L + names[i] + ".bias"] = sliceRows(qkvBias, i * d, d);
        }
        out[L + "wo.weight"] = transposed(need(h + "attn.c_proj.weight", {d, d}));
        out[L + "wo.bias"] = need(h + "attn.c_proj.bias", {d});
        out[L + "ffn_norm.weight"] = need(h + "ln_2.weight", {d});
        out[L + "ffn_norm.bias"] = need(h + "ln_2.bias", {d});
        out[L + "w_up.weight"] = transposed(need(h + "mlp.c_fc.weight", {d, f}));
        out[L + "w_up.bias"] = need(h + "mlp.c_fc.bias", {f});
        out[L + "w_down.weight"] = transposed(need(h + "mlp.c_proj.weight", {f, d}));
        out[L + "w_down.bias"] = need(h + "mlp.c_proj.bias", {d});
    }
    out["norm.weight"] = need("ln_f.weight", {d});
    out["norm.bias"] = need("ln_f.bias", {d});
    return out;
}

} // namespace

TensorSet canonicalHfTensors(const ModelConfig& config, const TensorSet& stored, const std::string& file) {
    if (config.architecture == Architecture::Gpt2) return gpt2Tensors(config, stored, file);
    // A checkpoint of the bare LlamaModel (no LM head class) has no "model." prefix.
    const std::string prefix =
        stored.count("embed_tokens.weight") && !stored.count("model.embed_tokens.weight") ? "" : "model.";
    return collectRenamed(
        config, stored, [&](std::string_view name) { return hfLlamaName(name, prefix); }, file);
}

} // namespace attnscope::core

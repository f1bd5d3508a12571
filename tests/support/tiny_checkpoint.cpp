#include "support/tiny_checkpoint.hpp"

#include "model/safetensors.hpp"

#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>
#include <random>

namespace attnscope::test {

namespace {

struct Shape {
    std::string name;
    std::vector<int64_t> dims;
    bool isNormWeight = false; // norms start near 1 so the model is not degenerate
};

std::vector<Shape> shapesFor(const TinySpec& s) {
    const int64_t d = s.dModel / s.nHeads;
    std::vector<Shape> out;
    if (s.modelType == "gpt2") {
        out.push_back({"wte.weight", {s.vocab, s.dModel}});
        out.push_back({"wpe.weight", {s.maxPositions, s.dModel}});
        for (int64_t l = 0; l < s.nLayers; ++l) {
            const std::string p = "h." + std::to_string(l) + ".";
            out.push_back({p + "ln_1.weight", {s.dModel}, true});
            out.push_back({p + "ln_1.bias", {s.dModel}});
            out.push_back({p + "attn.c_attn.weight", {s.dModel, 3 * s.dModel}});
            out.push_back({p + "attn.c_attn.bias", {3 * s.dModel}});
            out.push_back({p + "attn.c_proj.weight", {s.dModel, s.dModel}});
            out.push_back({p + "attn.c_proj.bias", {s.dModel}});
            out.push_back({p + "ln_2.weight", {s.dModel}, true});
            out.push_back({p + "ln_2.bias", {s.dModel}});
            out.push_back({p + "mlp.c_fc.weight", {s.dModel, s.dFf}});
            out.push_back({p + "mlp.c_fc.bias", {s.dFf}});
            out.push_back({p + "mlp.c_proj.weight", {s.dFf, s.dModel}});
            out.push_back({p + "mlp.c_proj.bias", {s.dModel}});
        }
        out.push_back({"ln_f.weight", {s.dModel}, true});
        out.push_back({"ln_f.bias", {s.dModel}});
        return out;
    }
    out.push_back({"model.embed_tokens.weight", {s.vocab, s.dModel}});
    for (int64_t l = 0; l < s.nLayers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        out.push_back({p + "input_layernorm.weight", {s.dModel}, true});
        out.push_back({p + "self_attn.q_proj.weight", {s.nHeads * d, s.dModel}});
        out.push_back({p + "self_attn.k_proj.weight", {s.nKvHeads * d, s.dModel}});
        out.push_back({p + "self_attn.v_proj.weight", {s.nKvHeads * d, s.dModel}});
        if (s.qkvBias) {
            out.push_back({p + "self_attn.q_proj.bias", {s.nHeads * d}});
            out.push_back({p + "self_attn.k_proj.bias", {s.nKvHeads * d}});
            out.push_back({p + "self_attn.v_proj.bias", {s.nKvHeads * d}});
        }
        out.push_back({p + "self_attn.o_proj.weight", {s.dModel, s.nHeads * d}});
        out.push_back({p + "post_attention_layernorm.weight", {s.dModel}, true});
        out.push_back({p + "mlp.gate_proj.weight", {s.dFf, s.dModel}});
        out.push_back({p + "mlp.up_proj.weight", {s.dFf, s.dModel}});
        out.push_back({p + "mlp.down_proj.weight", {s.dModel, s.dFf}});
    }
    out.push_back({"model.norm.weight", {s.dModel}, true});
    if (!s.tied) out.push_back({"lm_head.weight", {s.vocab, s.dModel}});
    return out;
}

nlohmann::json configFor(const TinySpec& s) {
    nlohmann::json c;
    c["model_type"] = s.modelType;
    c["vocab_size"] = s.vocab;
    if (s.modelType == "gpt2") {
        c["architectures"] = {"GPT2LMHeadModel"};
        c["n_layer"] = s.nLayers;
        c["n_head"] = s.nHeads;
        c["n_embd"] = s.dModel;
        c["n_inner"] = s.dFf;
        c["n_positions"] = s.maxPositions;
        c["layer_norm_epsilon"] = 1e-5;
        c["bos_token_id"] = 0;
        c["eos_token_id"] = 0;
        return c;
    }
    c["architectures"] = {s.modelType == "qwen2" ? "Qwen2ForCausalLM" : "LlamaForCausalLM"};
    c["hidden_size"] = s.dModel;
    c["intermediate_size"] = s.dFf;
    c["num_hidden_layers"] = s.nLayers;
    c["num_attention_heads"] = s.nHeads;
    c["num_key_value_heads"] = s.nKvHeads;
    c["max_position_embeddings"] = s.maxPositions;
    c["rms_norm_eps"] = 1e-5;
    c["rope_theta"] = 10000.0;
    c["tie_word_embeddings"] = s.tied;
    c["bos_token_id"] = 1;
    c["eos_token_id"] = 2;
    c["torch_dtype"] = "float32";
    return c;
}

// Rounds to the stored dtype and returns the raw little-endian bytes.
std::vector<uint8_t> encode(std::vector<float>& values, core::DType dtype) {
    std::vector<uint8_t> bytes(core::tensorBytes(dtype, static_cast<int64_t>(values.size())));
    for (size_t i = 0; i < values.size(); ++i) {
        if (dtype == core::DType::F32) {
            std::memcpy(bytes.data() + 4 * i, &values[i], 4);
            continue;
        }
        uint16_t h = dtype == core::DType::BF16 ? core::floatToBf16(values[i]) : core::floatToHalf(values[i]);
        values[i] = dtype == core::DType::BF16 ? core::bf16ToFloat(h) : core::halfToFloat(h);
        std::memcpy(bytes.data() + 2 * i, &h, 2);
    }
    return bytes;
}

} // namespace

TinyWeights writeTinyCheckpoint(const std::filesystem::path& dir, const TinySpec& spec) {
    std::filesystem::create_directories(dir);
    std::mt19937 rng(spec.seed);
    std::normal_distribution<float> normal(0.0f, static_cast<float>(spec.scale));
    TinyWeights weights;
    std::map<std::string, std::vector<uint8_t>> bytes;
    std::vector<Shape> shapes = shapesFor(spec);
    for (const Shape& s : shapes) {
        int64_t n = 1;
        for (int64_t x : s.dims) n *= x;
        std::vector<float> v(static_cast<size_t>(n));
        for (float& x : v) x = (s.isNormWeight ? 1.0f : 0.0f) + normal(rng);
        bytes[s.name] = encode(v, spec.dtype);
        weights[s.name] = std::move(v);
    }
    std::ofstream(dir / "config.json") << configFor(spec).dump(2);

    const int shards = std::max(1, spec.shards);
    nlohmann::json index;
    index["metadata"] = {{"total_size", 0}};
    for (int k = 0; k < shards; ++k) {
        std::vector<core::TensorToWrite> part;
        for (size_t i = k; i < shapes.size(); i += shards)
            part.push_back({shapes[i].name, spec.dtype, shapes[i].dims, bytes[shapes[i].name].data()});
        const std::string file = shards == 1 ? "model.safetensors"
                                             : "model-0000" + std::to_string(k + 1) + "-of-0000" +
                                                   std::to_string(shards) + ".safetensors";
        core::writeSafetensors(dir / file, part, {{"format", "pt"}});
        for (const auto& t : part) index["weight_map"][t.name] = file;
    }
    if (shards > 1) std::ofstream(dir / "model.safetensors.index.json") << index.dump(2);
    return weights;
}

} // namespace attnscope::test

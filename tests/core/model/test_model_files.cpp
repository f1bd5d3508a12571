// loadModelFiles: tiny random HF checkpoints (Llama, sharded Qwen2, GPT-2 Conv1D), stories260K.gguf, and bad models.
#include "errors.hpp"
#include "model/model_files.hpp"
#include "model/safetensors.hpp"
#include "model/sha256.hpp"
#include "model/tokenizer.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <random>

using namespace attnscope::core;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using Shapes = std::map<std::string, std::vector<int64_t>>;
using Values = std::map<std::string, std::vector<float>>;

// D 16, 4 heads of 4, 2 KV heads, F 24, V 32, 2 layers.
json tinyLlamaConfig(const std::string& type = "llama") {
    return {{"model_type", type},       {"hidden_size", 16},
            {"intermediate_size", 24},  {"num_hidden_layers", 2},
            {"num_attention_heads", 4}, {"num_key_value_heads", 2},
            {"vocab_size", 32},         {"max_position_embeddings", 64},
            {"rms_norm_eps", 1e-6},     {"tie_word_embeddings", type == "qwen2"}};
}

Shapes llamaShapes(bool bias, bool tied) {
    Shapes s = {{"model.embed_tokens.weight", {32, 16}}, {"model.norm.weight", {16}}};
    if (!tied) s["lm_head.weight"] = {32, 16};
    for (int l = 0; l < 2; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        s[p + "input_layernorm.weight"] = {16};
        s[p + "post_attention_layernorm.weight"] = {16};
        s[p + "self_attn.q_proj.weight"] = {16, 16};
        s[p + "self_attn.k_proj.weight"] = {8, 16};
        s[p + "self_attn.v_proj.weight"] = {8, 16};
        s[p + "self_attn.o_proj.weight"] = {16, 16};
        if (bias) {
            s[p + "self_attn.q_proj.bias"] = {16};
            s[p + "self_attn.k_proj.bias"] = {8};
            s[p + "self_attn.v_proj.bias"] = {8};
        }
        s[p + "mlp.gate_proj.weight"] = {24, 16};
        s[p + "mlp.up_proj.weight"] = {24, 16};
        s[p + "mlp.down_proj.weight"] = {16, 24};
    }
    return s;
}

Values randomValues(const Shapes& shapes) {
    std::mt19937 rng(1234);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    Values v;
    for (const auto& [name, shape] : shapes) {
        int64_t n = 1;
        for (auto d : shape)
            n *= d;
        auto& data = v[name];
        for (int64_t i = 0; i < n; ++i)
            data.push_back(dist(rng));
    }
    return v;
}

// Writes the tensors (as F32, or BF16 when asked) into `file`; BF16 values in `values` are rounded to match.
void writeTensors(const fs::path& file, const Shapes& shapes, Values& values, bool bf16 = false) {
    std::vector<TensorToWrite> out;
    std::map<std::string, std::vector<uint16_t>> halves;
    for (const auto& [name, shape] : shapes) {
        auto& v = values.at(name);
        if (bf16) {
            auto& h = halves[name];
            for (auto& f : v) {
                h.push_back(floatToBf16(f));
                f = bf16ToFloat(h.back());
            }
            out.push_back({name, DType::BF16, shape, h.data()});
        } else {
            out.push_back({name, DType::F32, shape, v.data()});
        }
    }
    writeSafetensors(file, out);
}

fs::path writeHfModel(const std::string& tag, const json& config, const Shapes& shapes, Values& values) {
    const auto dir = attnscope::test::scratchDir(tag);
    std::ofstream(dir / "config.json") << config.dump(2);
    writeTensors(dir / "model.safetensors", shapes, values);
    return dir;
}

template <typename E> std::string expectLoadThrows(const fs::path& path, const std::string& mustName) {
    try {
        loadModelFiles(path);
        ADD_FAILURE() << "no exception for " << path;
    } catch (const E& e) {
        EXPECT_NE(std::string(e.what()).find(mustName), std::string::npos) << e.what();
        return e.what();
    } catch (const std::exception& e) {
        ADD_FAILURE() << "wrong exception type: " << e.what();
    }
    return {};
}

} // namespace

TEST(ModelFiles, HfLlamaFolder) {
    const Shapes shapes = llamaShapes(false, false);
    Values values = randomValues(shapes);
    const auto dir = writeHfModel("llama", tinyLlamaConfig(), shapes, values);
    const ModelFiles m = loadModelFiles(dir, true);
    EXPECT_EQ(m.format, "safetensors");
    EXPECT_EQ(m.source, dir.string());
    EXPECT_EQ(m.weightsDtype, "F32");
    EXPECT_EQ(m.weightsSha256, sha256File(dir / "model.safetensors"));
    EXPECT_EQ(m.tokenizer, nullptr); // no tokenizer.json
    EXPECT_EQ(m.config.nKvHeads, 2);
    EXPECT_EQ(m.tensors.size(), shapes.size());
    EXPECT_EQ(toFloat32(m.tensors.at("tok_embeddings.weight")), values.at("model.embed_tokens.weight"));
    EXPECT_EQ(toFloat32(m.tensors.at("layers.1.wk.weight")), values.at("model.layers.1.self_attn.k_proj.weight"));
    EXPECT_EQ(toFloat32(m.tensors.at("layers.0.w_gate.weight")), values.at("model.layers.0.mlp.gate_proj.weight"));
    EXPECT_EQ(toFloat32(m.tensors.at("layers.0.w_down.weight")), values.at("model.layers.0.mlp.down_proj.weight"));
    EXPECT_EQ(toFloat32(m.tensors.at("norm.weight")), values.at("model.norm.weight"));
    EXPECT_EQ(toFloat32(m.tensors.at("lm_head.weight")), values.at("lm_head.weight"));
}

TEST(ModelFiles, ShardedQwen2WithBiasesTiedAndBf16) {
    const Shapes shapes = llamaShapes(true, true);
    Values values = randomValues(shapes);
    const auto dir = attnscope::test::scratchDir("qwen2");
    std::ofstream(dir / "config.json") << tinyLlamaConfig("qwen2").dump();
    Shapes first, second;
    json weightMap;
    for (const auto& [name, shape] : shapes) {
        const bool one = name.find("layers.1.") == std::string::npos;
        (one ? first : second)[name] = shape;
        weightMap[name] = one ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
    }
    writeTensors(dir / "model-00001-of-00002.safetensors", first, values, true);
    writeTensors(dir / "model-00002-of-00002.safetensors", second, values, true);
    std::ofstream(dir / "model.safetensors.index.json") << json{{"weight_map", weightMap}}.dump();

    const ModelFiles m = loadModelFiles(dir, true);
    EXPECT_TRUE(m.config.qkvBias);
    EXPECT_TRUE(m.config.tiedEmbeddings);
    EXPECT_FALSE(m.tensors.count("lm_head.weight"));
    EXPECT_EQ(m.weightsDtype, "BF16");
    EXPECT_EQ(toFloat32(m.tensors.at("layers.1.wv.bias")), values.at("model.layers.1.self_attn.v_proj.bias"));
    EXPECT_EQ(toFloat32(m.tensors.at("layers.0.wq.bias")), values.at("model.layers.0.self_attn.q_proj.bias"));
    // The hash covers the shards in name order, as if concatenated.
    Sha256 h;
    for (const char* shard : {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}) {
        const auto bytes = attnscope::test::readBinary<char>(dir / shard);
        h.update(bytes.data(), bytes.size());
    }
    EXPECT_EQ(m.weightsSha256, h.hexDigest());
}

TEST(ModelFiles, Gpt2Conv1DIsTransposedAndCAttnSplit) {
    const int64_t d = 8, f = 32, v = 20, p = 12;
    const json config = {{"model_type", "gpt2"}, {"n_layer", 1},    {"n_head", 2},       {"n_embd", d},
                         {"n_positions", p},     {"vocab_size", v}, {"n_inner", nullptr}};
    Shapes shapes = {{"transformer.wte.weight", {v, d}},
                     {"transformer.wpe.weight", {p, d}},
                     {"transformer.ln_f.weight", {d}},
                     {"transformer.ln_f.bias", {d}},
                     {"transformer.h.0.attn.c_attn.weight", {d, 3 * d}},
                     {"transformer.h.0.attn.c_attn.bias", {3 * d}},
                     {"transformer.h.0.attn.c_proj.weight", {d, d}},
                     {"transformer.h.0.attn.c_proj.bias", {d}},
                     {"transformer.h.0.mlp.c_fc.weight", {d, f}},
                     {"transformer.h.0.mlp.c_fc.bias", {f}},
                     {"transformer.h.0.mlp.c_proj.weight", {f, d}},
                     {"transformer.h.0.mlp.c_proj.bias", {d}},
                     {"transformer.h.0.attn.bias", {1, 1, p, p}}}; // the causal-mask buffer old checkpoints carry
    for (const char* ln : {"ln_1", "ln_2"})
        for (const char* param : {"weight", "bias"})
            shapes[std::string("transformer.h.0.") + ln + "." + param] = {d};
    Values values = randomValues(shapes);
    const auto dir = writeHfModel("gpt2", config, shapes, values);
    const ModelFiles m = loadModelFiles(dir);
    EXPECT_EQ(m.config.architecture, Architecture::Gpt2);
    EXPECT_EQ(m.tensors.size(), 20u); // 2 embeddings + final norm weight and bias + 16 per layer

    const auto& cAttn = values.at("transformer.h.0.attn.c_attn.weight"); // [in d][out 3d]
    const char* const names[] = {"layers.0.wq.weight", "layers.0.wk.weight", "layers.0.wv.weight"};
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(m.tensors.at(names[i]).shape, (std::vector<int64_t>{d, d}));
        const auto w = toFloat32(m.tensors.at(names[i]));
        for (int64_t r = 0; r < d; ++r)
            for (int64_t c = 0; c < d; ++c)
                ASSERT_EQ(w[r * d + c], cAttn[c * 3 * d + i * d + r]) << names[i];
    }
    const auto kBias = toFloat32(m.tensors.at("layers.0.wk.bias"));
    EXPECT_EQ(kBias, std::vector<float>(values.at("transformer.h.0.attn.c_attn.bias").begin() + d,
                                        values.at("transformer.h.0.attn.c_attn.bias").begin() + 2 * d));
    const auto up = toFloat32(m.tensors.at("layers.0.w_up.weight")); // [f, d] from c_fc [d, f]
    const auto& cFc = values.at("transformer.h.0.mlp.c_fc.weight");
    for (int64_t r = 0; r < f; ++r)
        for (int64_t c = 0; c < d; ++c)
            ASSERT_EQ(up[r * d + c], cFc[c * f + r]);
    EXPECT_EQ(m.tensors.at("layers.0.w_down.weight").shape, (std::vector<int64_t>{d, f}));
    EXPECT_EQ(toFloat32(m.tensors.at("pos_embeddings.weight")), values.at("transformer.wpe.weight"));
    EXPECT_EQ(toFloat32(m.tensors.at("layers.0.ffn_norm.bias")), values.at("transformer.h.0.ln_2.bias"));
}

TEST(ModelFiles, Stories260KGguf) {
    ATTNSCOPE_REQUIRE_SHARED();
    const auto file = attnscope::test::stories260KDir() / "stories260K.gguf";
    const ModelFiles m = loadModelFiles(file, true);
    EXPECT_EQ(m.format, "gguf");
    EXPECT_EQ(m.weightsDtype, "F32");
    EXPECT_EQ(m.weightsSha256, "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d");
    EXPECT_EQ(m.config.ropePairing, RopePairing::Adjacent);
    // This GGUF stores output.weight as a byte-identical copy of the embedding: the loader treats it as tied,
    // so it is held and counted once (260,032 parameters, as the model card says).
    EXPECT_TRUE(m.config.tiedEmbeddings);
    EXPECT_EQ(m.tensors.count("lm_head.weight"), 0u);
    EXPECT_EQ(m.tensors.size(), 47u);
    EXPECT_EQ(countParameters(m.tensors), 260032);
    EXPECT_EQ(m.tensors.at("layers.4.wk.weight").shape, (std::vector<int64_t>{32, 64}));
    EXPECT_EQ(m.tensors.at("layers.4.w_down.weight").shape, (std::vector<int64_t>{64, 172}));
    ASSERT_NE(m.tokenizer, nullptr);
    EXPECT_EQ(m.tokenizer->vocabSize(), 512);
}

TEST(ModelFilesBadInput, MissingConfigJson) {
    const Shapes shapes = llamaShapes(false, false);
    Values values = randomValues(shapes);
    const auto dir = writeHfModel("noconfig", tinyLlamaConfig(), shapes, values);
    fs::remove(dir / "config.json");
    expectLoadThrows<FileError>(dir, dir.string());
}

TEST(ModelFilesBadInput, UnknownModelType) {
    const Shapes shapes = llamaShapes(false, false);
    Values values = randomValues(shapes);
    const auto dir = writeHfModel("unknown", tinyLlamaConfig("rwkv"), shapes, values);
    expectLoadThrows<UnsupportedError>(dir, (dir / "config.json").string());
}

TEST(ModelFilesBadInput, MissingTensor) {
    Shapes shapes = llamaShapes(false, false);
    shapes.erase("model.layers.1.mlp.up_proj.weight");
    Values values = randomValues(shapes);
    const auto dir = writeHfModel("missing", tinyLlamaConfig(), shapes, values);
    const auto msg = expectLoadThrows<FormatError>(dir, (dir / "model.safetensors").string());
    EXPECT_NE(msg.find("'model.layers.1.mlp.up_proj.weight'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("2 layers"), std::string::npos) << msg;
}

TEST(ModelFilesBadInput, WrongTensorShapeVersusConfig) {
    Shapes shapes = llamaShapes(false, false);
    shapes["model.layers.0.self_attn.k_proj.weight"] = {16, 16}; // config says 2 KV heads: [8, 16]
    Values values = randomValues(shapes);
    const auto dir = writeHfModel("shape", tinyLlamaConfig(), shapes, values);
    const auto msg = expectLoadThrows<FormatError>(dir, (dir / "model.safetensors").string());
    EXPECT_NE(msg.find("'model.layers.0.self_attn.k_proj.weight'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[16, 16]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[8, 16]"), std::string::npos) << msg;
}

TEST(ModelFilesBadInput, FolderWithNoWeights) {
    const auto dir = attnscope::test::scratchDir("noweights");
    std::ofstream(dir / "config.json") << tinyLlamaConfig().dump();
    std::ofstream(dir / "pytorch_model.bin") << "not read";
    const auto msg = expectLoadThrows<FileError>(dir, dir.string());
    EXPECT_NE(msg.find("pytorch_model.bin"), std::string::npos) << msg;
}

TEST(ModelFilesBadInput, MissingPathAndUnknownFileKind) {
    const auto dir = attnscope::test::scratchDir("kind");
    expectLoadThrows<FileError>(dir / "nothing.gguf", (dir / "nothing.gguf").string());
    std::ofstream(dir / "weights.bin") << "llama2.c";
    expectLoadThrows<UnsupportedError>(dir / "weights.bin", (dir / "weights.bin").string());
}

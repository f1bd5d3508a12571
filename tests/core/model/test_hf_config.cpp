// config.json parsing for llama, qwen2, mistral and gpt2 fixtures, rope_scaling kinds, and bad configs.
#include "errors.hpp"
#include "model/hf_config.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

using namespace attnscope::core;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

fs::path writeConfig(const json& j, const std::string& tag = "cfg") {
    const auto file = attnscope::test::scratchDir(tag) / "config.json";
    std::ofstream(file) << j.dump(2);
    return file;
}

// Abridged from TinyLlama-1.1B's config.json.
json llamaConfig() {
    return {{"architectures", {"LlamaForCausalLM"}},
            {"model_type", "llama"},
            {"hidden_size", 2048},
            {"intermediate_size", 5632},
            {"num_hidden_layers", 22},
            {"num_attention_heads", 32},
            {"num_key_value_heads", 4},
            {"rms_norm_eps", 1e-5},
            {"max_position_embeddings", 2048},
            {"vocab_size", 32000},
            {"bos_token_id", 1},
            {"eos_token_id", 2},
            {"rope_scaling", nullptr},
            {"tie_word_embeddings", false},
            {"hidden_act", "silu"}};
}

template <typename E> std::string expectThrowNaming(const fs::path& file) {
    try {
        parseHfConfig(file);
        ADD_FAILURE() << "no exception for " << file;
    } catch (const E& e) {
        EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
        return e.what();
    } catch (const std::exception& e) {
        ADD_FAILURE() << "wrong exception type: " << e.what();
    }
    return {};
}

} // namespace

TEST(HfConfig, Llama) {
    const ModelConfig c = parseHfConfig(writeConfig(llamaConfig()));
    EXPECT_EQ(c.architecture, Architecture::Llama);
    EXPECT_EQ(c.modelType, "llama");
    EXPECT_EQ(c.dModel, 2048);
    EXPECT_EQ(c.dFf, 5632);
    EXPECT_EQ(c.nLayers, 22);
    EXPECT_EQ(c.nHeads, 32);
    EXPECT_EQ(c.nKvHeads, 4);
    EXPECT_EQ(c.headDim, 64);
    EXPECT_EQ(c.vocabSize, 32000);
    EXPECT_EQ(c.maxPositions, 2048);
    EXPECT_DOUBLE_EQ(c.normEps, 1e-5);
    EXPECT_DOUBLE_EQ(c.ropeTheta, 10000.0);
    EXPECT_EQ(c.ropeScaling.type, "");
    EXPECT_EQ(c.ropePairing, RopePairing::Half);
    EXPECT_FALSE(c.tiedEmbeddings);
    EXPECT_FALSE(c.qkvBias);
    EXPECT_EQ(c.bosId, 1);
    EXPECT_EQ(c.eosId, 2);
}

TEST(HfConfig, Qwen2HasQkvBiasAndTiesWhenTold) {
    json j = llamaConfig();
    j["model_type"] = "qwen2";
    j["hidden_size"] = 896;
    j["num_attention_heads"] = 14;
    j["num_key_value_heads"] = 2;
    j["rope_theta"] = 1000000.0;
    j["tie_word_embeddings"] = true;
    j["eos_token_id"] = json::array({151645, 151643}); // a list: the first is used
    j["bos_token_id"] = nullptr;
    const ModelConfig c = parseHfConfig(writeConfig(j));
    EXPECT_EQ(c.modelType, "qwen2");
    EXPECT_TRUE(c.qkvBias);
    EXPECT_TRUE(c.tiedEmbeddings);
    EXPECT_EQ(c.headDim, 64);
    EXPECT_DOUBLE_EQ(c.ropeTheta, 1e6);
    EXPECT_EQ(c.eosId, 151645);
    EXPECT_FALSE(c.bosId.has_value());
}

TEST(HfConfig, MistralWithExplicitHeadDimAndNoKvHeads) {
    json j = llamaConfig();
    j["model_type"] = "mistral";
    j.erase("num_key_value_heads");
    j["head_dim"] = 128;
    j.erase("tie_word_embeddings");
    const ModelConfig c = parseHfConfig(writeConfig(j));
    EXPECT_EQ(c.architecture, Architecture::Llama);
    EXPECT_EQ(c.nKvHeads, 32);
    EXPECT_EQ(c.headDim, 128);
    EXPECT_FALSE(c.tiedEmbeddings);
}

TEST(HfConfig, Gpt2) {
    // GPT-2 small's config.json, abridged; n_inner is null (4 * n_embd).
    const json j = {{"model_type", "gpt2"},
                    {"n_layer", 12},
                    {"n_head", 12},
                    {"n_embd", 768},
                    {"n_positions", 1024},
                    {"n_inner", nullptr},
                    {"vocab_size", 50257},
                    {"layer_norm_epsilon", 1e-5},
                    {"activation_function", "gelu_new"},
                    {"bos_token_id", 50256},
                    {"eos_token_id", 50256}};
    const ModelConfig c = parseHfConfig(writeConfig(j));
    EXPECT_EQ(c.architecture, Architecture::Gpt2);
    EXPECT_EQ(c.nLayers, 12);
    EXPECT_EQ(c.nHeads, 12);
    EXPECT_EQ(c.nKvHeads, 12);
    EXPECT_EQ(c.headDim, 64);
    EXPECT_EQ(c.dModel, 768);
    EXPECT_EQ(c.dFf, 3072);
    EXPECT_EQ(c.maxPositions, 1024);
    EXPECT_EQ(c.vocabSize, 50257);
    EXPECT_TRUE(c.qkvBias);
    EXPECT_TRUE(c.tiedEmbeddings);
    EXPECT_EQ(c.eosId, 50256);
}

TEST(HfConfig, ArchitecturesStandInForAMissingModelType) {
    json j = llamaConfig();
    j.erase("model_type");
    j["architectures"] = {"Qwen2ForCausalLM"};
    EXPECT_TRUE(parseHfConfig(writeConfig(j)).qkvBias);
}

TEST(HfConfig, RopeScalingKinds) {
    json j = llamaConfig();
    j["rope_scaling"] = {{"type", "linear"}, {"factor", 4.0}};
    auto c = parseHfConfig(writeConfig(j, "linear"));
    EXPECT_EQ(c.ropeScaling.type, "linear");
    EXPECT_DOUBLE_EQ(c.ropeScaling.factor, 4.0);

    j["rope_scaling"] = {{"rope_type", "llama3"},
                         {"factor", 32.0},
                         {"low_freq_factor", 1.0},
                         {"high_freq_factor", 4.0},
                         {"original_max_position_embeddings", 8192}};
    c = parseHfConfig(writeConfig(j, "llama3"));
    EXPECT_EQ(c.ropeScaling.type, "llama3");
    EXPECT_DOUBLE_EQ(c.ropeScaling.factor, 32.0);
    EXPECT_DOUBLE_EQ(c.ropeScaling.highFreqFactor, 4.0);
    EXPECT_EQ(c.ropeScaling.originalMaxPositions, 8192);

    j["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
    const auto msg = expectThrowNaming<UnsupportedError>(writeConfig(j, "yarn"));
    EXPECT_NE(msg.find("yarn"), std::string::npos) << msg;
}

TEST(HfConfigBadInput, MissingConfigFile) {
    expectThrowNaming<FileError>(attnscope::test::scratchDir("cfg") / "config.json");
}

TEST(HfConfigBadInput, UnknownModelType) {
    json j = llamaConfig();
    j["model_type"] = "mamba";
    const auto msg = expectThrowNaming<UnsupportedError>(writeConfig(j));
    EXPECT_NE(msg.find("mamba"), std::string::npos) << msg;
}

TEST(HfConfigBadInput, MissingKeyAndWrongTypeNameTheKey) {
    json j = llamaConfig();
    j.erase("hidden_size");
    EXPECT_NE(expectThrowNaming<FormatError>(writeConfig(j, "missing")).find("hidden_size"), std::string::npos);
    j = llamaConfig();
    j["num_hidden_layers"] = "22";
    EXPECT_NE(expectThrowNaming<FormatError>(writeConfig(j, "type")).find("num_hidden_layers"), std::string::npos);
    j = llamaConfig();
    j["num_key_value_heads"] = 5; // does not divide 32 heads
    EXPECT_NE(expectThrowNaming<FormatError>(writeConfig(j, "gqa")).find("num_key_value_heads"), std::string::npos);
}

TEST(HfConfigBadInput, NotJson) {
    const auto file = attnscope::test::scratchDir("cfg") / "config.json";
    std::ofstream(file) << "{\"model_type\": \"llama\",";
    expectThrowNaming<FormatError>(file);
}

#include "model/hf_config.hpp"

#include "errors.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fstream>

namespace attnscope::core {

namespace {

// Typed access to config.json; a JSON null counts as absent, as transformers treats it.
class ConfigReader {
public:
    ConfigReader(const nlohmann::json& j, std::string label) : m_j(j), m_label(std::move(label)) {}

    const nlohmann::json* find(const std::string& key) const {
        auto it = m_j.find(key);
        return it == m_j.end() || it->is_null() ? nullptr : &*it;
    }

    [[noreturn]] void bad(const std::string& key, const std::string& problem) const {
        throw FormatError(fmt::format("'{}' has a bad '{}': {}.", m_label, key, problem));
    }

    int64_t positive(const std::string& key, std::optional<int64_t> fallback = std::nullopt) const {
        const auto* v = find(key);
        if (!v) {
            if (fallback) return *fallback;
            throw FormatError(fmt::format("'{}' lacks the key '{}'.", m_label, key));
        }
        if (!v->is_number_integer()) bad(key, "expected an integer, found " + v->dump());
        const auto n = v->get<int64_t>();
        if (n <= 0) bad(key, "expected a positive integer, found " + v->dump());
        return n;
    }

    double number(const std::string& key, double fallback) const {
        const auto* v = find(key);
        if (!v) return fallback;
        if (!v->is_number()) bad(key, "expected a number, found " + v->dump());
        return v->get<double>();
    }

    bool boolean(const std::string& key, bool fallback) const {
        const auto* v = find(key);
        if (!v) return fallback;
        if (!v->is_boolean()) bad(key, "expected true or false, found " + v->dump());
        return v->get<bool>();
    }

    std::string string(const std::string& key, const std::string& fallback) const {
        const auto* v = find(key);
        if (!v) return fallback;
        if (!v->is_string()) bad(key, "expected a string, found " + v->dump());
        return v->get<std::string>();
    }

    // bos/eos ids: an integer, or a list whose first entry is the one used to start or stop text.
    std::optional<int64_t> tokenId(const std::string& key) const {
        const auto* v = find(key);
        if (!v) return std::nullopt;
        const auto* id = v->is_array() ? (v->empty() ? nullptr : &(*v)[0]) : v;
        if (!id) return std::nullopt;
        if (!id->is_number_integer() || id->get<int64_t>() < 0) bad(key, "expected a token id, found " + v->dump());
        return id->get<int64_t>();
    }

    const std::string& label() const { return m_label; }

private:
    const nlohmann::json& m_j;
    std::string m_label;
};

std::string modelTypeOf(const ConfigReader& r) {
    if (r.find("model_type")) return r.string("model_type", "");
    if (const auto* archs = r.find("architectures"); archs && archs->is_array() && !archs->empty()) {
        const auto arch = (*archs)[0].is_string() ? (*archs)[0].get<std::string>() : (*archs)[0].dump();
        static const std::pair<const char*, const char*> known[] = {{"LlamaForCausalLM", "llama"},
                                                                    {"MistralForCausalLM", "mistral"},
                                                                    {"Qwen2ForCausalLM", "qwen2"},
                                                                    {"GPT2LMHeadModel", "gpt2"}};
        for (const auto& [cls, type] : known)
            if (arch == cls) return type;
        throw UnsupportedError(fmt::format("'{}' describes a {} model, which attnscope does not support (Llama, "
                                           "Mistral, Qwen2 and GPT-2 are).",
                                           r.label(), arch));
    }
    throw FormatError(fmt::format("'{}' lacks the key 'model_type' (and 'architectures').", r.label()));
}

RopeScaling parseRopeScaling(const ConfigReader& r) {
    RopeScaling s;
    const auto* v = r.find("rope_scaling");
    if (!v) return s;
    if (!v->is_object()) r.bad("rope_scaling", "expected an object or null, found " + v->dump());
    const ConfigReader sr(*v, r.label());
    const auto kind = sr.find("rope_type") ? sr.string("rope_type", "") : sr.string("type", "");
    if (kind == "default" || kind.empty()) return s;
    if (kind != "linear" && kind != "llama3")
        throw UnsupportedError(fmt::format("'{}' asks for rope_scaling of type '{}', which attnscope does not support "
                                           "(linear and llama3 are).",
                                           r.label(), kind));
    s.type = kind;
    if (!sr.find("factor")) r.bad("rope_scaling", "it has no 'factor'");
    s.factor = sr.number("factor", 1.0);
    if (kind == "llama3") {
        s.lowFreqFactor = sr.number("low_freq_factor", s.lowFreqFactor);
        s.highFreqFactor = sr.number("high_freq_factor", s.highFreqFactor);
        s.originalMaxPositions = sr.positive("original_max_position_embeddings", s.originalMaxPositions);
    }
    if (s.factor <= 0) r.bad("rope_scaling", "its factor must be positive");
    return s;
}

void parseLlama(const ConfigReader& r, ModelConfig& c) {
    c.architecture = Architecture::Llama;
    c.dModel = r.positive("hidden_size");
    c.dFf = r.positive("intermediate_size");
    c.nLayers = r.positive("num_hidden_layers");
    c.nHeads = r.positive("num_attention_heads");
    c.nKvHeads = r.positive("num_key_value_heads", c.nHeads);
    if (!r.find("head_dim") && c.dModel % c.nHeads != 0)
        r.bad("num_attention_heads", fmt::format("{} heads do not divide hidden_size {}", c.nHeads, c.dModel));
    c.headDim = r.positive("head_dim", c.dModel / c.nHeads);
    if (c.nHeads % c.nKvHeads != 0)
        r.bad("num_key_value_heads", fmt::format("{} does not divide the {} attention heads", c.nKvHeads, c.nHeads));
    c.vocabSize = r.positive("vocab_size");
    c.maxPositions = r.positive("max_position_embeddings", 2048);
    c.normEps = r.number("rms_norm_eps", 1e-6);
    c.ropeTheta = r.number("rope_theta", 10000.0);
    c.ropeScaling = parseRopeScaling(r);
    c.ropePairing = RopePairing::Half;
    c.tiedEmbeddings = r.boolean("tie_word_embeddings", false);
    c.qkvBias = c.modelType == "qwen2";
    // Llama's attention_bias also puts a bias on o_proj, and mlp_bias on the MLP: ModelConfig has no place for them.
    if (r.boolean("attention_bias", false) || r.boolean("mlp_bias", false))
        throw UnsupportedError(fmt::format("'{}' asks for attention or MLP biases in a {} model, which attnscope does "
                                           "not support.",
                                           r.label(), c.modelType));
    if (const auto act = r.string("hidden_act", "silu"); act != "silu")
        throw UnsupportedError(
            fmt::format("'{}' asks for the activation '{}', but attnscope's Llama blocks use silu.", r.label(), act));
}

void parseGpt2(const ConfigReader& r, ModelConfig& c) {
    c.architecture = Architecture::Gpt2;
    c.nLayers = r.positive("n_layer");
    c.nHeads = r.positive("n_head");
    c.dModel = r.positive("n_embd");
    if (c.dModel % c.nHeads != 0) r.bad("n_head", fmt::format("{} heads do not divide n_embd {}", c.nHeads, c.dModel));
    c.nKvHeads = c.nHeads;
    c.headDim = c.dModel / c.nHeads;
    c.dFf = r.positive("n_inner", 4 * c.dModel);
    c.vocabSize = r.positive("vocab_size");
    c.maxPositions = r.positive("n_positions", r.positive("n_ctx", 1024));
    c.normEps = r.number("layer_norm_epsilon", 1e-5);
    c.tiedEmbeddings = true; // GPT2LMHeadModel always ties lm_head to wte
    c.qkvBias = true;
    const auto act = r.string("activation_function", "gelu_new");
    if (act != "gelu_new" && act != "gelu_pytorch_tanh")
        throw UnsupportedError(fmt::format("'{}' asks for the activation '{}', but attnscope's GPT-2 blocks use "
                                           "GELU-tanh (gelu_new).",
                                           r.label(), act));
    if (!r.boolean("scale_attn_weights", true) || r.boolean("scale_attn_by_inverse_layer_idx", false))
        throw UnsupportedError(
            fmt::format("'{}' changes GPT-2's attention scaling, which attnscope does not support.", r.label()));
}

} // namespace

ModelConfig parseHfConfig(const std::filesystem::path& configJson) {
    const std::string label = configJson.string();
    std::ifstream in(configJson, std::ios::binary);
    if (!in) throw FileError(fmt::format("Cannot open '{}'.", label));
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
        throw FormatError(fmt::format("'{}' is not valid JSON ({}).", label, e.what()));
    }
    if (!j.is_object()) throw FormatError(fmt::format("'{}' is not a JSON object.", label));
    const ConfigReader r(j, label);

    ModelConfig c;
    c.modelType = modelTypeOf(r);
    if (c.modelType == "llama" || c.modelType == "mistral" || c.modelType == "qwen2" || c.modelType == "smollm" ||
        c.modelType == "tinyllama")
        parseLlama(r, c);
    else if (c.modelType == "gpt2")
        parseGpt2(r, c);
    else
        throw UnsupportedError(fmt::format("'{}' describes a model of type '{}', which attnscope does not support "
                                           "(llama, mistral, qwen2 and gpt2 are).",
                                           label, c.modelType));
    c.bosId = r.tokenId("bos_token_id");
    c.eosId = r.tokenId("eos_token_id");
    return c;
}

} // namespace attnscope::core

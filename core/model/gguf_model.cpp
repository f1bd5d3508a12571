#include "model/gguf_model.hpp"

#include "errors.hpp"
#include "model/expected_tensors.hpp"
#include "model/gguf_file.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <numbers>

namespace attnscope::core {

namespace {

class MetaReader {
public:
    MetaReader(const nlohmann::json& md, std::string label, std::string arch)
        : m_md(md), m_label(std::move(label)), m_arch(std::move(arch)) {}

    const nlohmann::json* find(const std::string& key) const {
        auto it = m_md.find(m_arch + "." + key);
        return it == m_md.end() ? nullptr : &*it;
    }

    int64_t positive(const std::string& key, std::optional<int64_t> fallback = std::nullopt) const {
        const auto* v = find(key);
        if (!v) {
            if (fallback) return *fallback;
            throw FormatError(fmt::format("'{}' lacks the metadata key '{}.{}'.", m_label, m_arch, key));
        }
        if (!v->is_number_integer() || v->get<int64_t>() <= 0)
            throw FormatError(fmt::format("'{}' has metadata '{}.{}' = {}, not a positive integer.", m_label, m_arch,
                                          key, v->dump()));
        return v->get<int64_t>();
    }

    double number(const std::string& key, double fallback) const {
        const auto* v = find(key);
        if (!v) return fallback;
        if (!v->is_number())
            throw FormatError(
                fmt::format("'{}' has metadata '{}.{}' = {}, not a number.", m_label, m_arch, key, v->dump()));
        return v->get<double>();
    }

    std::string string(const std::string& key, const std::string& fallback) const {
        const auto* v = find(key);
        if (!v) return fallback;
        if (!v->is_string())
            throw FormatError(
                fmt::format("'{}' has metadata '{}.{}' = {}, not a string.", m_label, m_arch, key, v->dump()));
        return v->get<std::string>();
    }

private:
    const nlohmann::json& m_md;
    std::string m_label;
    std::string m_arch;
};

// llama.cpp stores Llama 3 rope scaling only as the per-frequency divisors it derived (rope_freqs.weight). The
// parameters are recovered with Meta's published constants (low 1, high 4), the factor solved from the lowest
// frequency, and every divisor recomputed and compared, so that any other scheme is refused rather than misread.
RopeScaling llama3FromRopeFreqs(const RawTensor& freqs, const ModelConfig& c, int64_t originalContext,
                                const std::string& label) {
    const std::vector<float> got = toFloat32(freqs);
    RopeScaling s;
    s.type = "llama3";
    s.lowFreqFactor = 1.0;
    s.highFreqFactor = 4.0;
    s.originalMaxPositions = originalContext;
    const double lowWavelen = originalContext / s.lowFreqFactor, highWavelen = originalContext / s.highFreqFactor;
    auto wavelen = [&](size_t i) {
        return 2 * std::numbers::pi *
               std::pow(c.ropeTheta, 2.0 * static_cast<double>(i) / static_cast<double>(c.headDim));
    };
    auto smooth = [&](double w) {
        return (originalContext / w - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
    };
    bool matches = !got.empty() && static_cast<int64_t>(got.size()) == c.headDim / 2 && got.back() > 0;
    if (matches) {
        const double last = wavelen(got.size() - 1), r = got.back();
        if (last > lowWavelen)
            s.factor = r;
        else if (last >= highWavelen && 1 / r - smooth(last) > 0)
            s.factor = (1 - smooth(last)) / (1 / r - smooth(last));
        else
            s.factor = 1.0; // every frequency is in the unscaled band
    }
    for (size_t i = 0; matches && i < got.size(); ++i) {
        const double w = wavelen(i);
        double expected = 1.0;
        if (w > lowWavelen)
            expected = s.factor;
        else if (w >= highWavelen)
            expected = 1.0 / ((1 - smooth(w)) / s.factor + smooth(w));
        // The converter computed in float32: allow a few ulps of it.
        matches = std::abs(got[i] - expected) <= 1e-4 * expected;
    }
    if (!matches)
        throw UnsupportedError(fmt::format("'{}' has a rope_freqs.weight tensor that does not follow Llama 3 rope "
                                           "scaling, the only kind of stored rope frequencies attnscope reads.",
                                           label));
    if (std::abs(s.factor - 1.0) < 1e-6) return RopeScaling{};
    return s;
}

} // namespace

ModelConfig ggufModelConfig(const GgufFile& gguf) {
    const auto& md = gguf.metadata();
    const std::string label = gguf.path().string();
    auto archIt = md.find("general.architecture");
    if (archIt == md.end() || !archIt->is_string())
        throw FormatError(fmt::format("'{}' lacks the metadata key 'general.architecture'.", label));
    const auto arch = archIt->get<std::string>();
    if (arch != "llama" && arch != "mistral" && arch != "qwen2")
        throw UnsupportedError(fmt::format("'{}' holds a '{}' model, which attnscope does not support (llama, mistral "
                                           "and qwen2 GGUF files are).",
                                           label, arch));
    const MetaReader r(md, label, arch);
    const auto& tensors = gguf.tensors();

    ModelConfig c;
    c.architecture = Architecture::Llama;
    c.modelType = arch;
    c.nLayers = r.positive("block_count");
    c.dModel = r.positive("embedding_length");
    c.nHeads = r.positive("attention.head_count");
    c.nKvHeads = r.positive("attention.head_count_kv", c.nHeads);
    c.dFf = r.positive("feed_forward_length");
    c.maxPositions = r.positive("context_length", 2048);
    if (!r.find("attention.key_length") && c.dModel % c.nHeads != 0)
        throw FormatError(fmt::format("'{}' has {} attention heads, which do not divide the embedding length {}.",
                                      label, c.nHeads, c.dModel));
    c.headDim = r.positive("attention.key_length", c.dModel / c.nHeads);
    if (c.nHeads % c.nKvHeads != 0)
        throw FormatError(fmt::format("'{}' has {} key/value heads, which do not divide its {} attention heads.", label,
                                      c.nKvHeads, c.nHeads));
    if (r.positive("attention.value_length", c.headDim) != c.headDim ||
        r.positive("rope.dimension_count", c.headDim) != c.headDim)
        throw UnsupportedError(fmt::format("'{}' has a value length or rotary dimension different from its head size "
                                           "{}, which attnscope does not support.",
                                           label, c.headDim));
    c.ropeTheta = r.number("rope.freq_base", 10000.0);
    c.normEps = r.number("attention.layer_norm_rms_epsilon", 1e-5);
    // llama.cpp's converter permutes Llama Q/K rows for adjacent-pair RoPE; Qwen2 keeps HF's halves (NEOX rope).
    c.ropePairing = arch == "qwen2" ? RopePairing::Half : RopePairing::Adjacent;
    c.tiedEmbeddings = !tensors.count("output.weight");
    c.qkvBias = arch == "qwen2" || tensors.count("blk.0.attn_q.bias");

    auto embd = tensors.find("token_embd.weight");
    if (embd == tensors.end() || embd->second.shape.size() != 2)
        throw FormatError(fmt::format("'{}' has no tensor 'token_embd.weight' that a {} model with {} layers needs.",
                                      label, arch, c.nLayers));
    c.vocabSize = embd->second.shape[0];

    const auto scaling = r.string("rope.scaling.type", "none");
    if (scaling == "linear") {
        c.ropeScaling.type = "linear";
        c.ropeScaling.factor = r.number("rope.scaling.factor", 1.0);
    } else if (scaling != "none") {
        throw UnsupportedError(
            fmt::format("'{}' asks for rope scaling of type '{}', which attnscope does not support.", label, scaling));
    }
    if (auto freqs = tensors.find("rope_freqs.weight"); freqs != tensors.end())
        c.ropeScaling =
            llama3FromRopeFreqs(freqs->second, c, r.positive("rope.scaling.original_context_length", 8192), label);

    auto tokenId = [&](const char* key) -> std::optional<int64_t> {
        auto it = md.find(key);
        // Converters write uint32 -1 for "no such token".
        if (it == md.end() || !it->is_number_integer() || it->get<int64_t>() == 0xFFFFFFFF) return std::nullopt;
        return it->get<int64_t>();
    };
    c.bosId = tokenId("tokenizer.ggml.bos_token_id");
    c.eosId = tokenId("tokenizer.ggml.eos_token_id");
    return c;
}

TensorSet canonicalGgufTensors(const ModelConfig& config, const GgufFile& gguf) {
    static const std::pair<const char*, const char*> layerModules[] = {
        {"attn_norm", "attn_norm"}, {"wq", "attn_q"},      {"wk", "attn_k"},
        {"wv", "attn_v"},           {"wo", "attn_output"}, {"ffn_norm", "ffn_norm"},
        {"w_gate", "ffn_gate"},     {"w_up", "ffn_up"},    {"w_down", "ffn_down"}};
    auto storedName = [](std::string_view canonical) {
        const auto n = splitCanonical(canonical);
        if (n.layer >= 0)
            for (const auto& [ours, theirs] : layerModules)
                if (n.module == ours) return fmt::format("blk.{}.{}.{}", n.layer, theirs, n.param);
        if (n.module == "tok_embeddings") return "token_embd." + n.param;
        if (n.module == "norm") return "output_norm." + n.param;
        return "output." + n.param; // lm_head
    };
    return collectRenamed(config, gguf.tensors(), storedName, gguf.path().string());
}

} // namespace attnscope::core

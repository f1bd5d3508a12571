// GgufFile::vocab(): the tokenizer.ggml.* metadata, type-checked, as a GgufVocab.
#include "errors.hpp"
#include "model/gguf_file.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace attnscope::core {

namespace {

constexpr int64_t kNoToken = 0xFFFFFFFF;

class VocabReader {
public:
    VocabReader(const nlohmann::json& md, std::string label) : m_md(md), m_label(std::move(label)) {}

    const nlohmann::json* find(const std::string& key) const {
        auto it = m_md.find(key);
        return it == m_md.end() ? nullptr : &*it;
    }

    [[noreturn]] void wrongType(const std::string& key, const char* expected) const {
        throw FormatError(
            fmt::format("'{}' has metadata '{}' of the wrong type: expected {}.", m_label, key, expected));
    }

    std::vector<std::string> strings(const std::string& key) const {
        std::vector<std::string> out;
        const auto* v = find(key);
        if (!v) return out;
        if (!v->is_array()) wrongType(key, "an array of strings");
        out.reserve(v->size());
        for (const auto& e : *v) {
            if (!e.is_string()) wrongType(key, "an array of strings");
            out.push_back(e.get<std::string>());
        }
        return out;
    }

    template <typename T> std::vector<T> numbers(const std::string& key) const {
        std::vector<T> out;
        const auto* v = find(key);
        if (!v) return out;
        if (!v->is_array()) wrongType(key, "an array of numbers");
        out.reserve(v->size());
        for (const auto& e : *v) {
            if (!e.is_number()) wrongType(key, "an array of numbers");
            out.push_back(e.get<T>());
        }
        return out;
    }

    int64_t integer(const std::string& key, int64_t fallback) const {
        const auto* v = find(key);
        if (!v) return fallback;
        if (!v->is_number_integer()) wrongType(key, "an integer");
        // Converters write uint32 -1 for "no such token".
        return v->get<int64_t>() == kNoToken ? -1 : v->get<int64_t>();
    }

    bool boolean(const std::string& key, bool fallback) const {
        const auto* v = find(key);
        if (!v) return fallback;
        if (!v->is_boolean()) wrongType(key, "a boolean");
        return v->get<bool>();
    }

    std::string string(const std::string& key, const std::string& fallback) const {
        const auto* v = find(key);
        if (!v) return fallback;
        if (!v->is_string()) wrongType(key, "a string");
        return v->get<std::string>();
    }

    const std::string& label() const { return m_label; }

private:
    const nlohmann::json& m_md;
    std::string m_label;
};

} // namespace

GgufVocab GgufFile::vocab() const {
    VocabReader r(*m_metadata, m_path.string());
    if (!r.find("tokenizer.ggml.tokens"))
        throw FormatError(
            fmt::format("'{}' has no vocabulary: its metadata lacks 'tokenizer.ggml.tokens'.", r.label()));
    GgufVocab v;
    v.model = r.string("tokenizer.ggml.model", "llama");
    v.tokens = r.strings("tokenizer.ggml.tokens");
    v.scores = r.numbers<float>("tokenizer.ggml.scores");
    v.tokenTypes = r.numbers<int32_t>("tokenizer.ggml.token_type");
    v.merges = r.strings("tokenizer.ggml.merges");
    v.bosId = r.integer("tokenizer.ggml.bos_token_id", -1);
    v.eosId = r.integer("tokenizer.ggml.eos_token_id", -1);
    v.unkId = r.integer("tokenizer.ggml.unknown_token_id", -1);
    // llama.cpp's defaults when the keys are absent: SentencePiece adds BOS and a space prefix, BPE adds neither.
    const bool sentencePiece = v.model == "llama";
    v.addBos = r.boolean("tokenizer.ggml.add_bos_token", sentencePiece);
    v.addSpacePrefix = r.boolean("tokenizer.ggml.add_space_prefix", sentencePiece);

    const auto n = static_cast<int64_t>(v.tokens.size());
    auto checkLength = [&](size_t size, const char* key) {
        if (size != 0 && static_cast<int64_t>(size) != n)
            throw FormatError(fmt::format("'{}' has {} entries in '{}' but {} tokens.", r.label(), size, key, n));
    };
    checkLength(v.scores.size(), "tokenizer.ggml.scores");
    checkLength(v.tokenTypes.size(), "tokenizer.ggml.token_type");
    auto checkId = [&](int64_t id, const char* key) {
        if (id < -1 || id >= n)
            throw FormatError(
                fmt::format("'{}' has '{}' = {}, outside the {} tokens of its vocabulary.", r.label(), key, id, n));
    };
    checkId(v.bosId, "tokenizer.ggml.bos_token_id");
    checkId(v.eosId, "tokenizer.ggml.eos_token_id");
    checkId(v.unkId, "tokenizer.ggml.unknown_token_id");
    return v;
}

} // namespace attnscope::core

// loadHfTokenizer(): tokenizer.json (+ tokenizer_config.json, config.json) into a PipelineTokenizer.
#include "errors.hpp"
#include "model/bpe_model.hpp"
#include "model/hf_json.hpp"
#include "model/hf_special_tokens.hpp"
#include "model/pipeline_tokenizer.hpp"
#include "model/tokenizer.hpp"
#include "model/word_level_model.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace attnscope::core {
namespace {

constexpr int64_t kMaxTokenId = 1 << 26; // far above any real vocabulary; guards the id -> token table's size

std::vector<std::string> readVocab(const nlohmann::json& model, const std::string& file) {
    if (!model.contains("vocab") || !model["vocab"].is_object() || model["vocab"].empty())
        throw FormatError(fmt::format("Tokenizer file {} has no model vocabulary (model.vocab).", file));
    std::vector<std::string> tokens;
    for (const auto& [token, id] : model["vocab"].items()) {
        if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= kMaxTokenId)
            throw FormatError(fmt::format("Tokenizer file {} gives vocabulary entry {} the id {}, which is not a valid "
                                          "token id.",
                                          file, token, id.dump()));
        const auto k = static_cast<size_t>(id.get<int64_t>());
        if (k >= tokens.size()) tokens.resize(k + 1);
        tokens[k] = token;
    }
    return tokens;
}

std::vector<std::pair<std::string, std::string>> readMerges(const nlohmann::json& model, const std::string& file) {
    if (!model.contains("merges") || !model["merges"].is_array())
        throw FormatError(fmt::format("Tokenizer file {} has a BPE model without merges (model.merges).", file));
    std::vector<std::pair<std::string, std::string>> merges;
    merges.reserve(model["merges"].size());
    for (const auto& m : model["merges"]) {
        // Both spellings are in the wild: "a b" (older files) and ["a", "b"] (tokens that may hold spaces).
        if (m.is_string()) {
            const std::string s = m.get<std::string>();
            const size_t space = s.find(' ');
            if (space == std::string::npos || space == 0 || space + 1 == s.size())
                throw FormatError(fmt::format("Tokenizer file {} has merge \"{}\", which is not two tokens.", file, s));
            merges.emplace_back(s.substr(0, space), s.substr(space + 1));
        } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
            merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
        } else {
            throw FormatError(fmt::format("Tokenizer file {} has merge {}, which is not two tokens.", file, m.dump()));
        }
    }
    return merges;
}

std::string optionalString(const nlohmann::json& j, const char* key) {
    return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

std::vector<AddedToken> readAddedTokens(const nlohmann::json& j, const std::string& file) {
    std::vector<AddedToken> out;
    if (!j.contains("added_tokens") || j["added_tokens"].is_null()) return out;
    for (const auto& t : jsonArray(j, "added_tokens", "tokenizer", file)) {
        if (!t.contains("id") || !t["id"].is_number_integer() || t["id"].get<int64_t>() < 0 ||
            t["id"].get<int64_t>() >= kMaxTokenId || !t.contains("content") || !t["content"].is_string())
            throw FormatError(
                fmt::format("Tokenizer file {} has added token {} without a valid id and content.", file, t.dump()));
        out.push_back({t["content"].get<std::string>(), static_cast<int32_t>(t["id"].get<int64_t>()),
                       t.value("special", false), t.value("lstrip", false), t.value("rstrip", false),
                       t.value("single_word", false)});
    }
    return out;
}

// What the "decoder" says about turning tokens back into text.
struct DecoderInfo {
    bool present = false;
    bool byteLevel = false;
    bool stripLeadingSpace = false;
    std::string replacement; // what stands for a space (Metaspace, or Replace(x -> " ")); empty when none
};

void readDecoder(const nlohmann::json& d, const std::string& file, DecoderInfo& info) {
    if (d.is_null()) return;
    info.present = true;
    const std::string type = jsonType(d, "decoder", file);
    if (type == "Sequence") {
        for (const auto& sub : jsonArray(d, "decoders", "decoder", file))
            readDecoder(sub, file, info);
    } else if (type == "ByteLevel") {
        info.byteLevel = true;
    } else if (type == "Strip") {
        info.stripLeadingSpace =
            info.stripLeadingSpace || (optionalString(d, "content") == " " && d.value("start", 0) > 0);
    } else if (type == "Replace") {
        if (optionalString(d, "content") == " " && d.contains("pattern") && d["pattern"].is_object())
            info.replacement = optionalString(d["pattern"], "String");
    } else if (type == "Metaspace") {
        info.replacement = optionalString(d, "replacement");
        const std::string scheme = optionalString(d, "prepend_scheme");
        info.stripLeadingSpace =
            info.stripLeadingSpace || (scheme.empty() ? d.value("add_prefix_space", true) : scheme != "never");
    }
    // ByteFallback and Fuse are what Metaspace decoding does anyway; others do not change our bytes.
}

std::unique_ptr<Tokenizer> buildTokenizer(const nlohmann::json& j, const std::filesystem::path& folder,
                                          const std::string& file) {
    if (!j.is_object() || !j.contains("model") || !j["model"].is_object())
        throw FormatError(fmt::format("Tokenizer file {} has no \"model\" object.", file));
    const nlohmann::json& model = j["model"];
    std::string type = optionalString(model, "type");
    if (type.empty()) // files from old tokenizers versions leave the type out
        type = model.contains("merges")
                   ? "BPE"
                   : (model.contains("vocab") && model["vocab"].is_array() ? "Unigram" : "WordLevel");
    PipelineParts p;
    p.source = file;
    bool byteFallback = false;
    if (type == "BPE") {
        for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
            if (!optionalString(model, key).empty())
                throw UnsupportedError(
                    fmt::format("Tokenizer file {} uses a BPE {}, which attnscope does not support.", file, key));
        BpeOptions options;
        options.byteFallback = byteFallback = model.value("byte_fallback", false);
        options.unkToken = optionalString(model, "unk_token");
        options.fuseUnk = model.value("fuse_unk", false);
        options.ignoreMerges = model.value("ignore_merges", false);
        p.model = std::make_unique<BpeModel>(readVocab(model, file), readMerges(model, file), options, file);
    } else if (type == "WordLevel") {
        p.model = std::make_unique<WordLevelModel>(readVocab(model, file), optionalString(model, "unk_token"), file);
    } else {
        throw UnsupportedError(fmt::format("Tokenizer file {} uses model type {}, which attnscope does not support "
                                           "(BPE and WordLevel only).",
                                           file, type));
    }
    p.added = AddedTokenMatcher(readAddedTokens(j, file));
    if (j.contains("normalizer") && !j["normalizer"].is_null())
        p.normalizer = HfNormalizer::fromJson(j["normalizer"], file);
    if (j.contains("pre_tokenizer") && !j["pre_tokenizer"].is_null())
        p.preTokenizer = HfPreTokenizer::fromJson(j["pre_tokenizer"], file);

    DecoderInfo decoder;
    readDecoder(j.contains("decoder") ? j["decoder"] : nlohmann::json(), file, decoder);
    if (type == "WordLevel") {
        p.kind = "word-level";
        p.decoding = TokenDecoding::WordLevel;
    } else if (decoder.byteLevel || (p.preTokenizer && p.preTokenizer->byteLevel())) {
        p.kind = "byte-level-bpe";
        p.decoding = TokenDecoding::ByteLevel;
    } else {
        p.kind = "metaspace-bpe";
        p.decoding = TokenDecoding::Metaspace;
        p.byteFallback = byteFallback;
        if (!decoder.replacement.empty())
            p.metaspace = decoder.replacement;
        else if (p.preTokenizer && !p.preTokenizer->metaspaceReplacement().empty())
            p.metaspace = p.preTokenizer->metaspaceReplacement();
        const bool prefixed = (p.normalizer && p.normalizer->prepends(p.metaspace)) ||
                              (p.preTokenizer && p.preTokenizer->metaspacePrepends());
        p.stripLeadingSpace = decoder.present ? decoder.stripLeadingSpace : prefixed;
        // Without a decoder HF joins the tokens with spaces; a Metaspace setup without one still means spaces.
        if (!decoder.present && !prefixed) p.decoding = TokenDecoding::WordLevel;
    }
    applySpecialTokens(j, folder, file, p);
    return std::make_unique<PipelineTokenizer>(std::move(p));
}

} // namespace

std::unique_ptr<Tokenizer> loadHfTokenizer(const std::filesystem::path& folder) {
    // A path to tokenizer.json itself is accepted too; its folder holds the config files.
    const bool isFile = std::filesystem::is_regular_file(folder);
    const std::filesystem::path path = isFile ? folder : folder / "tokenizer.json";
    const std::filesystem::path dir = isFile ? folder.parent_path() : folder;
    const std::string file = path.string();
    if (!std::filesystem::exists(path)) throw FileError(fmt::format("Tokenizer file {} does not exist.", file));
    const nlohmann::json j = readJsonFile(path);
    try {
        return buildTokenizer(j, dir, file);
    } catch (const nlohmann::json::exception& e) {
        throw FormatError(fmt::format("Tokenizer file {} has a value of an unexpected type ({}).", file, e.what()));
    }
}

} // namespace attnscope::core

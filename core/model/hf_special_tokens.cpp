#include "model/hf_special_tokens.hpp"

#include "errors.hpp"
#include "model/hf_json.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <optional>

namespace attnscope::core {
namespace {

struct SpecialConfig {
    std::string bosToken, eosToken;
    std::optional<bool> addBos, addEos;
    int64_t bosId = -1, eosId = -1; // config.json's, used when the token strings are not found
};

// tokenizer_config.json spells a token as a string or as {"content": ...}.
std::string tokenString(const nlohmann::json& j, const char* key) {
    if (!j.contains(key)) return {};
    const auto& v = j[key];
    if (v.is_string()) return v.get<std::string>();
    if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
    return {};
}

// config.json's ids are an integer, a list (Llama 3.1 lists several EOS ids: the first is the main one) or null.
int64_t configId(const nlohmann::json& j, const char* key) {
    if (!j.contains(key)) return -1;
    const auto& v = j[key];
    if (v.is_number_integer()) return v.get<int64_t>();
    if (v.is_array() && !v.empty() && v[0].is_number_integer()) return v[0].get<int64_t>();
    return -1;
}

SpecialConfig readConfigs(const std::filesystem::path& folder) {
    SpecialConfig c;
    const auto tokenizerConfig = folder / "tokenizer_config.json";
    if (std::filesystem::exists(tokenizerConfig)) {
        const nlohmann::json j = readJsonFile(tokenizerConfig);
        if (!j.is_object())
            throw FormatError(fmt::format("The file {} is not a JSON object.", tokenizerConfig.string()));
        c.bosToken = tokenString(j, "bos_token");
        c.eosToken = tokenString(j, "eos_token");
        if (j.contains("add_bos_token") && j["add_bos_token"].is_boolean()) c.addBos = j["add_bos_token"].get<bool>();
        if (j.contains("add_eos_token") && j["add_eos_token"].is_boolean()) c.addEos = j["add_eos_token"].get<bool>();
    }
    const auto config = folder / "config.json";
    if (std::filesystem::exists(config)) {
        const nlohmann::json j = readJsonFile(config);
        if (!j.is_object()) throw FormatError(fmt::format("The file {} is not a JSON object.", config.string()));
        c.bosId = configId(j, "bos_token_id");
        c.eosId = configId(j, "eos_token_id");
    }
    return c;
}

int32_t idOf(const PipelineParts& p, const std::string& token) {
    if (token.empty()) return -1;
    for (const AddedToken& t : p.added.tokens())
        if (t.content == token) return t.id;
    return p.model->tokenId(token);
}

// The post_processor's special tokens around a single sequence (TemplateProcessing, Roberta/Bert, Sequence).
void readPostProcessor(const nlohmann::json& j, const std::string& file, const PipelineParts& p,
                       std::vector<int32_t>& prefix, std::vector<int32_t>& suffix) {
    if (j.is_null()) return;
    const std::string type = jsonType(j, "post_processor", file);
    if (type == "Sequence") {
        for (const auto& sub : jsonArray(j, "processors", "post_processor", file))
            readPostProcessor(sub, file, p, prefix, suffix);
    } else if (type == "TemplateProcessing") {
        const auto& specials = j.contains("special_tokens") ? j["special_tokens"] : nlohmann::json::object();
        bool afterSequence = false;
        for (const auto& item : jsonArray(j, "single", "TemplateProcessing post-processor", file)) {
            if (item.contains("Sequence")) {
                afterSequence = true;
                continue;
            }
            if (!item.contains("SpecialToken") || !item["SpecialToken"].contains("id"))
                throw FormatError(fmt::format("Tokenizer file {} has a template item {} that is neither a "
                                              "SpecialToken nor a Sequence.",
                                              file, item.dump()));
            const std::string name = item["SpecialToken"]["id"].get<std::string>();
            std::vector<int32_t> ids;
            if (specials.contains(name) && specials[name].contains("ids"))
                ids = specials[name]["ids"].get<std::vector<int32_t>>();
            else if (const int32_t id = idOf(p, name); id >= 0)
                ids = {id};
            else
                throw FormatError(fmt::format("Tokenizer file {} has a template naming special token {}, which it "
                                              "does not define.",
                                              file, name));
            auto& target = afterSequence ? suffix : prefix;
            target.insert(target.end(), ids.begin(), ids.end());
        }
    } else if (type == "RobertaProcessing" || type == "BertProcessing") {
        const auto id = [&](const char* key) {
            const auto& v = j.at(key); // ["<s>", 0]
            return v.at(1).get<int32_t>();
        };
        prefix.push_back(id("cls"));
        suffix.push_back(id("sep"));
    } else if (type != "ByteLevel") {
        throw UnsupportedError(fmt::format("Tokenizer file {} uses post-processor {}, which attnscope does not "
                                           "support.",
                                           file, type));
    }
}

} // namespace

void applySpecialTokens(const nlohmann::json& tokenizer, const std::filesystem::path& folder, const std::string& file,
                        PipelineParts& parts) {
    const SpecialConfig config = readConfigs(folder);
    parts.bosId = idOf(parts, config.bosToken);
    if (parts.bosId < 0) parts.bosId = config.bosId;
    parts.eosId = idOf(parts, config.eosToken);
    if (parts.eosId < 0) parts.eosId = config.eosId;

    if (tokenizer.contains("post_processor"))
        readPostProcessor(tokenizer["post_processor"], file, parts, parts.prefix, parts.suffix);
    // transformers rebuilds the template from add_bos_token/add_eos_token when they are set; so do we.
    const auto apply = [](std::vector<int32_t>& ids, std::optional<bool> add, int64_t id, bool front) {
        if (!add || id < 0) return;
        const auto special = static_cast<int32_t>(id);
        const bool has = std::find(ids.begin(), ids.end(), special) != ids.end();
        if (*add && !has) ids.insert(front ? ids.begin() : ids.end(), special);
        if (!*add) ids.erase(std::remove(ids.begin(), ids.end(), special), ids.end());
    };
    apply(parts.prefix, config.addBos, parts.bosId, true);
    apply(parts.suffix, config.addEos, parts.eosId, false);
}

} // namespace attnscope::core

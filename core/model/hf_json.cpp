#include "model/hf_json.hpp"

#include "errors.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace attnscope::core {

nlohmann::json readJsonFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw FileError(fmt::format("The file {} cannot be opened.", path.string()));
    std::stringstream buffer;
    buffer << in.rdbuf();
    try {
        return nlohmann::json::parse(buffer.str());
    } catch (const nlohmann::json::parse_error& e) {
        throw FormatError(fmt::format("The file {} is not valid JSON ({}).", path.string(), e.what()));
    }
}

std::string jsonType(const nlohmann::json& j, std::string_view what, const std::string& file) {
    if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
        throw FormatError(fmt::format("Tokenizer file {} has a {} without a \"type\" string.", file, what));
    return j["type"].get<std::string>();
}

const nlohmann::json& jsonArray(const nlohmann::json& j, const char* key, std::string_view what,
                                const std::string& file) {
    if (!j.is_object() || !j.contains(key) || !j[key].is_array())
        throw FormatError(fmt::format("Tokenizer file {} has a {} without a \"{}\" array.", file, what, key));
    return j[key];
}

std::string jsonString(const nlohmann::json& j, const char* key, std::string_view what, const std::string& file) {
    if (!j.is_object() || !j.contains(key) || !j[key].is_string())
        throw FormatError(fmt::format("Tokenizer file {} has a {} without a \"{}\" string.", file, what, key));
    return j[key].get<std::string>();
}

std::shared_ptr<PcreRegex> jsonPattern(const nlohmann::json& j, std::string_view what, const std::string& file) {
    if (j.is_object() && j.contains("pattern") && j["pattern"].is_object()) {
        const auto& p = j["pattern"];
        if (p.contains("String") && p["String"].is_string())
            return std::make_shared<PcreRegex>(p["String"].get<std::string>(), true, file);
        if (p.contains("Regex") && p["Regex"].is_string())
            return std::make_shared<PcreRegex>(p["Regex"].get<std::string>(), false, file);
    }
    throw FormatError(fmt::format(
        "Tokenizer file {} has a {} whose \"pattern\" is neither {{\"String\"}} nor {{\"Regex\"}}.", file, what));
}

} // namespace attnscope::core

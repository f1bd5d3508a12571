#pragma once
// Typed reads from tokenizer.json objects: a missing or mistyped field is a FormatError whose message names the file.
#include "model/pcre_regex.hpp"

#include <nlohmann/json_fwd.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace attnscope::core {

// The whole file parsed; FileError when it cannot be read, FormatError when it is not JSON.
nlohmann::json readJsonFile(const std::filesystem::path& path);

// j["type"]; what says which part of the file j is ("pre_tokenizer").
std::string jsonType(const nlohmann::json& j, std::string_view what, const std::string& file);
const nlohmann::json& jsonArray(const nlohmann::json& j, const char* key, std::string_view what,
                                const std::string& file);
std::string jsonString(const nlohmann::json& j, const char* key, std::string_view what, const std::string& file);
// j["pattern"] as {"String": literal} or {"Regex": pattern}, compiled.
std::shared_ptr<PcreRegex> jsonPattern(const nlohmann::json& j, std::string_view what, const std::string& file);

} // namespace attnscope::core

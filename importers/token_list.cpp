#include "token_list.hpp"

#include "errors.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace attnscope::importers {

using core::FormatError;

namespace {

core::RunTokens fromPieces(std::vector<std::string> pieces, const std::string& file) {
    if (pieces.empty()) throw FormatError(fmt::format("The token file '{}' holds no tokens.", file));
    core::RunTokens t;
    std::map<std::string, int32_t> ids;
    for (size_t i = 0; i < pieces.size(); ++i) {
        if (pieces[i].find('\0') != std::string::npos)
            throw FormatError(fmt::format("The token file '{}' has a NUL byte inside token {}.", file, i));
        const auto [it, added] = ids.emplace(pieces[i], int32_t(ids.size()));
        t.ids.push_back(it->second);
        const int64_t begin = int64_t(t.text.size());
        t.text += pieces[i];
        t.spans.push_back({begin, int64_t(t.text.size())});
    }
    t.pieces = std::move(pieces);
    t.generated.assign(t.pieces.size(), 0);
    return t;
}

std::vector<std::string> jsonStrings(const nlohmann::json& list, const std::string& file) {
    std::vector<std::string> out;
    for (size_t i = 0; i < list.size(); ++i) {
        if (!list[i].is_string())
            throw FormatError(fmt::format("The token file '{}' has a token {} that is not a string ({}).", file, i,
                                          list[i].dump()));
        out.push_back(list[i].get<std::string>());
    }
    return out;
}

} // namespace

core::RunTokens readTokenList(const std::filesystem::path& path) {
    const std::string file = path.string();
    std::ifstream in(path, std::ios::binary);
    if (!in) throw core::FileError(fmt::format("Cannot open the token file '{}': it does not exist or is not "
                                               "readable.",
                                               file));
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string text = buffer.str();
    const size_t first = text.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && (text[first] == '[' || text[first] == '{')) {
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(text);
        } catch (const nlohmann::json::exception& e) {
            throw FormatError(fmt::format("The token file '{}' is not valid JSON ({}).", file, e.what()));
        }
        if (j.is_array()) return fromPieces(jsonStrings(j, file), file);
        if (!j.contains("tokens") || !j["tokens"].is_array())
            throw FormatError(fmt::format("The token file '{}' is a JSON object without a \"tokens\" list.", file));
        core::RunTokens t = fromPieces(jsonStrings(j["tokens"], file), file);
        if (j.contains("ids")) {
            const nlohmann::json& ids = j["ids"];
            if (!ids.is_array() || ids.size() != t.pieces.size())
                throw FormatError(fmt::format("The token file '{}' has {} tokens but its \"ids\" list does not hold "
                                              "as many ids.",
                                              file, t.pieces.size()));
            for (size_t i = 0; i < ids.size(); ++i) {
                if (!ids[i].is_number_integer())
                    throw FormatError(fmt::format("The token file '{}' has an id {} that is not an integer.", file, i));
                t.ids[i] = ids[i].get<int32_t>();
            }
        }
        return t;
    }
    std::vector<std::string> lines;
    std::istringstream stream(text);
    for (std::string line; std::getline(stream, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back(); // files written on Windows
        lines.push_back(line);
    }
    return fromPieces(std::move(lines), file);
}

int64_t distinctIds(const core::RunTokens& tokens) {
    return int64_t(std::set<int32_t>(tokens.ids.begin(), tokens.ids.end()).size());
}

} // namespace attnscope::importers

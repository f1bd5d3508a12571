#include "model/word_level_model.hpp"

#include "errors.hpp"

#include <fmt/format.h>

namespace attnscope::core {

WordLevelModel::WordLevelModel(std::vector<std::string> tokens, const std::string& unkToken, const std::string& file)
    : m_file(file), m_tokens(std::move(tokens)) {
    for (size_t id = 0; id < m_tokens.size(); ++id)
        if (!m_tokens[id].empty()) m_ids.insert_or_assign(m_tokens[id], static_cast<int32_t>(id));
    if (!unkToken.empty()) {
        m_unkId = tokenId(unkToken);
        if (m_unkId < 0)
            throw FormatError(
                fmt::format("Tokenizer file {} names unk_token {} that is not in its vocabulary.", file, unkToken));
    }
}

void WordLevelModel::tokenize(std::string_view word, std::vector<WordToken>& out) const {
    if (word.empty()) return;
    int32_t id = tokenId(word);
    if (id < 0) id = m_unkId;
    if (id < 0)
        throw ArgumentError(fmt::format("The word \"{}\" is not in the WordLevel vocabulary of {}, which has no "
                                        "unknown token.",
                                        word, m_file));
    out.push_back({id, 0, static_cast<uint32_t>(word.size())});
}

const std::string& WordLevelModel::token(int32_t id) const {
    static const std::string none;
    return id >= 0 && static_cast<size_t>(id) < m_tokens.size() ? m_tokens[id] : none;
}

int32_t WordLevelModel::tokenId(std::string_view token) const {
    const auto it = m_ids.find(token);
    return it == m_ids.end() ? -1 : it->second;
}

} // namespace attnscope::core

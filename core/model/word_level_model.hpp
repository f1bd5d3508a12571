#pragma once
// Hugging Face WordLevel model: each pre-tokenised word is one vocabulary entry, or the unknown token.
#include "model/utf8.hpp"
#include "model/word_model.hpp"

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

namespace attnscope::core {

class WordLevelModel final : public WordModel {
public:
    // tokens: id -> word (unused ids empty); unkToken may be empty. Throws FormatError naming file.
    WordLevelModel(std::vector<std::string> tokens, const std::string& unkToken, const std::string& file);

    // Throws ArgumentError for a word outside the vocabulary when there is no unknown token.
    void tokenize(std::string_view word, std::vector<WordToken>& out) const override;
    const std::string& token(int32_t id) const override;
    int32_t tokenId(std::string_view token) const override;
    int64_t size() const override { return static_cast<int64_t>(m_tokens.size()); }

private:
    std::string m_file;
    std::vector<std::string> m_tokens;
    std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> m_ids;
    int32_t m_unkId = -1;
};

} // namespace attnscope::core

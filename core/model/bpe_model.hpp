#pragma once
// Hugging Face BPE model: merges applied by rank inside each word, optional <0xXX> byte fallback and unknown token.
#include "model/utf8.hpp"
#include "model/word_model.hpp"

#include <array>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace attnscope::core {

struct BpeOptions {
    bool byteFallback = false; // a character outside the vocabulary becomes its bytes as <0xXX> tokens
    std::string unkToken;      // empty: characters that cannot be encoded are dropped, as HF does
    bool fuseUnk = false;      // consecutive unknown characters share one unknown token
    bool ignoreMerges = false; // a word that is itself in the vocabulary is one token (Llama 3)
};

class BpeModel final : public WordModel {
public:
    // tokens: id -> token (unused ids empty). merges: pairs in rank order. Throws FormatError naming file.
    BpeModel(std::vector<std::string> tokens, const std::vector<std::pair<std::string, std::string>>& merges,
             BpeOptions options, const std::string& file);

    void tokenize(std::string_view word, std::vector<WordToken>& out) const override;
    const std::string& token(int32_t id) const override;
    int32_t tokenId(std::string_view token) const override;
    int64_t size() const override { return static_cast<int64_t>(m_tokens.size()); }
    bool byteFallback() const { return m_options.byteFallback; }

private:
    void merge(std::string_view word, std::vector<WordToken>& out) const;

    std::vector<std::string> m_tokens;
    std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> m_ids;
    std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> m_merges; // (left id, right id) -> (rank, merged id)
    std::array<int32_t, 256> m_byteIds{};
    int32_t m_unkId = -1;
    BpeOptions m_options;
    // Words repeat a lot in real text; merging each distinct word once is most of the speed of HF's tokenizers.
    mutable std::mutex m_cacheMutex;
    mutable std::unordered_map<std::string, std::vector<WordToken>, StringHash, std::equal_to<>> m_cache;
};

} // namespace attnscope::core

#pragma once
// SentencePiece BPE with scores and byte fallback from a GGUF "llama" vocabulary, as llama2.c run.c and llama.cpp.
#include "model/added_tokens.hpp"
#include "model/tokenizer.hpp"
#include "model/utf8.hpp"

#include <array>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

namespace attnscope::core {

class SentencePieceTokenizer final : public Tokenizer {
public:
    // file names the source in error messages; throws FormatError when the vocabulary is unusable.
    SentencePieceTokenizer(const GgufVocab& vocab, const std::string& file);

    Encoding encode(std::string_view text, bool addSpecial = true) const override;
    std::string decode(const std::vector<int32_t>& ids, bool skipSpecial = true) const override;
    std::string piece(int32_t id) const override;
    int64_t vocabSize() const override { return static_cast<int64_t>(m_pieces.size()); }
    int64_t bosId() const override { return m_bosId; }
    int64_t eosId() const override { return m_eosId; }
    std::string kind() const override { return "sentencepiece-bpe"; }

private:
    enum class PieceType : uint8_t { Normal, Control, Byte, Other };
    void encodeFragment(std::string_view text, size_t begin, size_t end, bool spacePrefix, Encoding& out) const;
    void checkId(int32_t id) const;

    std::string m_file;
    std::vector<std::string> m_pieces;
    std::vector<float> m_scores;
    std::vector<PieceType> m_types;
    std::vector<std::string> m_decoded;                                                // piece(id), precomputed
    std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> m_mergeable; // pieces text may become
    std::array<int32_t, 256> m_byteIds{};                                              // <0xXX> ids, -1 when absent
    AddedTokenMatcher m_added;
    int64_t m_bosId = -1;
    int64_t m_eosId = -1;
    int64_t m_unkId = -1;
    bool m_addBos = true;
    bool m_addSpacePrefix = true;
};

} // namespace attnscope::core

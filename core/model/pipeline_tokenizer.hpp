#pragma once
// Tokenizer as Hugging Face's pipeline: added tokens, normaliser, pre-tokenizer, word model, special tokens around.
#include "model/added_tokens.hpp"
#include "model/hf_normalizer.hpp"
#include "model/hf_pre_tokenizer.hpp"
#include "model/tokenizer.hpp"
#include "model/word_model.hpp"

#include <memory>
#include <string>
#include <vector>

namespace attnscope::core {

// How ids become text again.
enum class TokenDecoding {
    ByteLevel, // GPT-2 characters back to bytes
    Metaspace, // "▁" back to spaces, <0xXX> to bytes (with byte fallback)
    WordLevel, // words joined by single spaces, as HF does without a decoder
};

struct PipelineParts {
    std::string source;                           // the file, for messages
    std::string kind;                             // Tokenizer::kind()
    std::unique_ptr<HfNormalizer> normalizer;     // may be null
    std::unique_ptr<HfPreTokenizer> preTokenizer; // may be null
    std::unique_ptr<WordModel> model;
    AddedTokenMatcher added;
    std::vector<int32_t> prefix; // special ids put before the text by encode(addSpecial)
    std::vector<int32_t> suffix; // ... and after it
    TokenDecoding decoding = TokenDecoding::ByteLevel;
    std::string metaspace = "\xE2\x96\x81"; // the replacement character for Metaspace decoding
    bool byteFallback = false;
    bool stripLeadingSpace = false; // decode drops one leading space (the prefix the encoder added)
    int64_t bosId = -1;
    int64_t eosId = -1;
};

class PipelineTokenizer final : public Tokenizer {
public:
    explicit PipelineTokenizer(PipelineParts parts);

    Encoding encode(std::string_view text, bool addSpecial = true) const override;
    std::string decode(const std::vector<int32_t>& ids, bool skipSpecial = true) const override;
    std::string piece(int32_t id) const override;
    int64_t vocabSize() const override { return m_vocabSize; }
    int64_t bosId() const override { return m_p.bosId; }
    int64_t eosId() const override { return m_p.eosId; }
    std::string kind() const override { return m_p.kind; }

private:
    void encodeRaw(std::string_view text, size_t begin, size_t end, Encoding& out) const;
    void checkId(int32_t id) const;

    PipelineParts m_p;
    int64_t m_vocabSize = 0;
    std::vector<std::string> m_decoded; // piece(id), precomputed
};

} // namespace attnscope::core

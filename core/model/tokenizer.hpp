#pragma once
// Text <-> token ids. Every token keeps its piece and its byte span [begin, end) in the input text.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace attnscope::core {

struct GgufVocab;

struct ByteSpan {
    int64_t begin = 0;
    int64_t end = 0;
};

// One encoded text. Special tokens added by the tokenizer (BOS) have an empty span at the text start.
struct Encoding {
    std::vector<int32_t> ids;
    std::vector<std::string> pieces; // the token as text (decoded bytes, may be a partial UTF-8 sequence)
    std::vector<ByteSpan> spans;
};

class Tokenizer {
public:
    virtual ~Tokenizer() = default;
    // addSpecial: prepend BOS when the tokenizer's configuration says so.
    virtual Encoding encode(std::string_view text, bool addSpecial = true) const = 0;
    // Concatenated bytes of the tokens; special tokens (BOS/EOS) are dropped when skipSpecial.
    virtual std::string decode(const std::vector<int32_t>& ids, bool skipSpecial = true) const = 0;
    // The token's bytes as decode() would emit them alone (a leading SentencePiece space is kept).
    virtual std::string piece(int32_t id) const = 0;
    virtual int64_t vocabSize() const = 0;
    virtual int64_t bosId() const = 0; // -1 when none
    virtual int64_t eosId() const = 0; // -1 when none
    virtual std::string kind() const = 0; // "sentencepiece-bpe", "byte-level-bpe", "metaspace-bpe", "word-level"
};

// Tokenizer from GGUF metadata ("llama" SentencePiece vocabulary, or "gpt2" byte-level BPE).
std::unique_ptr<Tokenizer> makeGgufTokenizer(const GgufVocab& vocab, const std::string& file);

// Tokenizer from a Hugging Face folder: tokenizer.json plus tokenizer_config.json (BOS/EOS, add_bos_token).
std::unique_ptr<Tokenizer> loadHfTokenizer(const std::filesystem::path& folder);

} // namespace attnscope::core

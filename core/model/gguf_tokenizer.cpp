// makeGgufTokenizer(): a GGUF vocabulary ("llama" SentencePiece or "gpt2" byte-level BPE) as a Tokenizer.
#include "errors.hpp"
#include "model/bpe_model.hpp"
#include "model/pipeline_tokenizer.hpp"
#include "model/sentencepiece_tokenizer.hpp"
#include "model/tokenizer.hpp"
#include "model/vocab_data.hpp"

#include <fmt/format.h>

namespace attnscope::core {
namespace {

// GGUF token types: 3 control, 4 user-defined; both are matched literally in text, as HF's added tokens are.
constexpr int32_t kTypeControl = 3, kTypeUserDefined = 4;

std::unique_ptr<Tokenizer> makeByteLevel(const GgufVocab& vocab, const std::string& file) {
    if (vocab.tokens.empty()) throw FormatError(fmt::format("GGUF file {} has an empty tokenizer vocabulary.", file));
    if (vocab.merges.empty())
        throw FormatError(fmt::format("GGUF file {} has a gpt2 vocabulary without tokenizer.ggml.merges.", file));
    std::vector<std::pair<std::string, std::string>> merges;
    merges.reserve(vocab.merges.size());
    for (const std::string& m : vocab.merges) {
        const size_t space = m.find(' ');
        if (space == std::string::npos || space == 0 || space + 1 == m.size())
            throw FormatError(fmt::format("GGUF file {} has merge \"{}\", which is not two tokens.", file, m));
        merges.emplace_back(m.substr(0, space), m.substr(space + 1));
    }
    PipelineParts p;
    p.source = file;
    p.kind = "byte-level-bpe";
    p.decoding = TokenDecoding::ByteLevel;
    p.model = std::make_unique<BpeModel>(vocab.tokens, merges, BpeOptions{}, file);
    // The model's own pre-tokenizer regex (tokenizer.ggml.pre) is not in GgufVocab; GPT-2's is the common base.
    p.preTokenizer = HfPreTokenizer::gpt2ByteLevel(file);
    std::vector<AddedToken> added;
    for (size_t id = 0; id < vocab.tokenTypes.size() && id < vocab.tokens.size(); ++id) {
        const int32_t type = vocab.tokenTypes[id];
        if ((type == kTypeControl || type == kTypeUserDefined) && !vocab.tokens[id].empty())
            added.push_back({vocab.tokens[id], static_cast<int32_t>(id), type == kTypeControl});
    }
    p.added = AddedTokenMatcher(std::move(added));
    p.bosId = vocab.bosId;
    p.eosId = vocab.eosId;
    if (vocab.addBos && vocab.bosId >= 0) p.prefix.push_back(static_cast<int32_t>(vocab.bosId));
    return std::make_unique<PipelineTokenizer>(std::move(p));
}

} // namespace

std::unique_ptr<Tokenizer> makeGgufTokenizer(const GgufVocab& vocab, const std::string& file) {
    if (vocab.model == "llama") return std::make_unique<SentencePieceTokenizer>(vocab, file);
    if (vocab.model == "gpt2") return makeByteLevel(vocab, file);
    throw UnsupportedError(fmt::format("GGUF file {} has a {} tokenizer; attnscope supports llama (SentencePiece) and "
                                       "gpt2 (byte-level BPE) vocabularies.",
                                       file, vocab.model.empty() ? "nameless" : vocab.model));
}

} // namespace attnscope::core

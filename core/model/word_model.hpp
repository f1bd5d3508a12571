#pragma once
// The model step of a tokenizer pipeline: one pre-tokenised word in, tokens with byte ranges inside the word out.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace attnscope::core {

struct WordToken {
    int32_t id = -1;
    uint32_t begin = 0; // bytes [begin, end) of the word
    uint32_t end = 0;
};

class WordModel {
public:
    virtual ~WordModel() = default;
    virtual void tokenize(std::string_view word, std::vector<WordToken>& out) const = 0;
    // The token's text as the vocabulary spells it; empty for an id the vocabulary does not use.
    virtual const std::string& token(int32_t id) const = 0;
    virtual int32_t tokenId(std::string_view token) const = 0; // -1 when absent
    virtual int64_t size() const = 0;                          // highest id + 1
};

} // namespace attnscope::core

#pragma once
// A tokenizer's vocabulary as GGUF stores it (tokenizer.ggml.*), handed from the GGUF reader to the tokenizer.
#include <cstdint>
#include <string>
#include <vector>

namespace attnscope::core {

struct GgufVocab {
    std::string model;               // tokenizer.ggml.model: "llama" (SentencePiece BPE), "gpt2", ...
    std::vector<std::string> tokens; // pieces, SentencePiece spells a space as U+2581
    std::vector<float> scores;       // empty if absent
    std::vector<int32_t> tokenTypes; // 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte
    std::vector<std::string> merges; // gpt2-style models only
    int64_t bosId = -1;
    int64_t eosId = -1;
    int64_t unkId = -1;
    bool addBos = true;
    bool addSpacePrefix = true;
};

} // namespace attnscope::core

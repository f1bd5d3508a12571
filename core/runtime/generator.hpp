#pragma once
// Autoregressive generation with the KV cache: prefill the prompt once, then one position per new token.
#include "runtime/sampler.hpp"

#include <cstdint>
#include <functional>
#include <vector>

namespace attnscope::core {

class AttentionHook;
class KvCache;
class Transformer;

struct GenerateOptions {
    int64_t maxNewTokens = 64;
    SamplingOptions sampling;
    std::vector<int32_t> stopIds; // generation stops after producing one of these (it is kept)
};

struct GenerateResult {
    std::vector<int32_t> ids; // prompt followed by the generated tokens
    int64_t promptLength = 0;
    bool stopped = false;     // ended on a stop id rather than maxNewTokens
};

// onToken(id) is called after each new token; returning false stops generation.
GenerateResult generate(Transformer& model, const std::vector<int32_t>& prompt, const GenerateOptions& options,
                        AttentionHook* hook = nullptr, const std::function<bool(int32_t)>& onToken = {},
                        KvCache* cache = nullptr);

// Default stop ids for a model: its EOS, plus BOS for llama2.c-style models that use BOS as the story delimiter.
std::vector<int32_t> defaultStopIds(const Transformer& model);

} // namespace attnscope::core

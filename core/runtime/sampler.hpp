#pragma once
// Picks the next token from float32 logits: greedy (temperature 0), temperature, top-p; seeded and reproducible.
#include "split_mix.hpp"

#include <cstdint>
#include <span>

namespace attnscope::core {

struct SamplingOptions {
    double temperature = 0.0; // 0: greedy (argmax, lowest id on ties)
    double topP = 1.0;        // nucleus mass in (0, 1]; 1 keeps every token
    uint64_t seed = 0;
};

class Sampler {
public:
    explicit Sampler(const SamplingOptions& options);
    int32_t next(std::span<const float> logits);

private:
    SamplingOptions m_options;
    SplitMix64 m_rng; // our own generator, so a seed gives the same text with every standard library
};

} // namespace attnscope::core

#pragma once
// Trainer options small enough for 2 CPU cores (2 layers, 64 wide, GQA 4/2, 8 rows of 128 tokens; stories shortened
// to fit), shared by the trainer's tests and the CUDA-vs-CPU test.
#include "organism/organism_trainer.hpp"

namespace attnscope::test {

inline core::TrainOptions smallTrainOptions(int64_t steps, uint64_t seed = 7) {
    core::TrainOptions o;
    o.steps = steps;
    o.seed = seed;
    o.layers = 2;
    o.heads = 4;
    o.kvHeads = 2; // GQA, so the runtime's KV-head mapping is exercised by the logits test
    o.width = 64;
    o.ffWidth = 176;
    o.batch = 8;
    o.seqLen = 128;
    o.story.maxFiller = 1;
    o.story.maxRepeatLength = 12;
    while (core::maxSampleLength(o.story) > o.seqLen && o.story.maxFacts > o.story.minFacts)
        --o.story.maxFacts;
    return o;
}

} // namespace attnscope::test

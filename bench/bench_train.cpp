// Organism training throughput: steps/s and real tokens/s of the default config (the one the committed organism is
// trained with) and, as the in-process baseline, the small config of the trainer's tests. Not a test.
#include "jobs/process_setup.hpp"
#include "organism/organism_trainer.hpp"

#include <ATen/Parallel.h>
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

using namespace attnscope::core;

namespace {

struct Rate {
    double stepsPerSecond = 0, tokensPerSecond = 0;
};

// Times `steps` optimiser steps after `warmup` untimed ones (allocator and thread pool warm-up).
Rate measure(const std::string& label, const TrainOptions& options, int steps, int warmup = 2) {
    OrganismTrainer trainer(options);
    for (int i = 0; i < warmup; ++i)
        trainer.step();
    const int64_t tokensBefore = trainer.step().tokens;
    const auto t0 = std::chrono::steady_clock::now();
    TrainStep last;
    for (int i = 0; i < steps; ++i)
        last = trainer.step();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    Rate r{steps / seconds, double(last.tokens - tokensBefore) / seconds};
    fmt::print("{:<34} {:>7} params, {} threads | {:>6.2f} steps/s | {:>6.0f} real tok/s | {:>5.2f} s/step | "
               "loss {:.3f}\n",
               label, trainer.parameterCount(), at::get_num_threads(), r.stepsPerSecond, r.tokensPerSecond,
               1.0 / r.stepsPerSecond, last.loss);
    return r;
}

} // namespace

int main(int argc, char** argv) {
    configureProcess();
    std::setvbuf(stdout, nullptr, _IOLBF, 0); // partial results survive an interrupted run
    const int steps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 20;
    fmt::print("bench_train: {} timed steps after 3 untimed\n", steps);

    TrainOptions small;
    small.layers = 2, small.heads = 4, small.kvHeads = 2, small.width = 64, small.ffWidth = 176;
    small.batch = 8, small.seqLen = 128;
    small.story.maxFiller = 1, small.story.maxRepeatLength = 12;
    const Rate base = measure("small (2x64, batch 8 x 128)", small, steps);

    TrainOptions full; // defaults: 4 layers x 8 heads x 128 wide, batch 16 x 512
    const Rate r = measure("default (4x128, batch 16 x 512)", full, steps);
    fmt::print("default / small: {:.2f}x the tokens/s; {} default steps would take {:.1f} min\n",
               r.tokensPerSecond / base.tokensPerSecond, full.steps, full.steps / r.stepsPerSecond / 60.0);
    return 0;
}

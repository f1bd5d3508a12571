#pragma once
// How a model runs: device, compute dtype, threads and attention strategy. Parsed from CLI strings.
#include <cstdint>
#include <string>

namespace attnscope::core {

enum class ComputeDtype { F32, BF16, F16 };

enum class AttentionMode {
    Blockwise, // ours: one block of queries at a time, hook sees each block once
    Eager,     // baseline: the whole [H, T, T] matrix at once, as HF's eager attention with output_attentions
};

struct RuntimeOptions {
    std::string device = "cpu";  // "cpu", "cuda", "cuda:N"
    ComputeDtype dtype = ComputeDtype::F32;
    int threads = 0;             // 0: availableThreads()
    AttentionMode attention = AttentionMode::Blockwise;
    int64_t queryBlock = 0;      // rows per attention block; 0: as many as fit attentionBlockBytes
    int64_t attentionBlockBytes = 64ll << 20; // float32 scores+probs of one block stay under this
};

// "f32" | "bf16" | "f16" (also "float32", "bfloat16", "float16"); throws ArgumentError otherwise.
ComputeDtype parseComputeDtype(const std::string& s);
const char* computeDtypeName(ComputeDtype d);
// CPUs this process may run on (its affinity mask, as taskset or a container sets it), at least 1. More compute
// threads than that only spin against each other in OpenMP's barriers.
int availableThreads();
// Checks the syntax "cpu" | "cuda" | "cuda:N"; throws ArgumentError otherwise. Availability is checked at load.
std::string parseDevice(const std::string& s);

} // namespace attnscope::core

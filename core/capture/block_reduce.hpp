#pragma once
// One pass over a block of attention on the CPU: per-row LSE, entropy, first-key mass and argmax, column sums and
// the finest pyramid level, for every head at once (parallel over heads). Plain pointers; float32, row-major.
#include <cstdint>

namespace attnscope::core {

struct BlockReduceTargets {
    int64_t tokens = 0;   // T: row stride of the [H][T] outputs
    float* lse = nullptr; // [H][T]
    float* entropy = nullptr;
    float* firstMass = nullptr;
    int64_t* top1 = nullptr;
    float* received = nullptr;    // [H][T], accumulated
    int level = 0;                // finest pyramid level; 0: none
    int64_t cells = 0;            // n = ceil(T / 2^level)
    float* pyramidSums = nullptr; // [H][n][n], accumulated
    float* pyramidMaxes = nullptr;
};

// Which instructions the row kernel uses. Both add in the same order, so they give the same bits.
enum class ReduceKernel {
    Best,    // AVX2 + FMA where the CPU has them, else Generic
    Generic, // what the compiler makes of plain C++ for the build's baseline CPU
};

// Whether ReduceKernel::Best runs the AVX2 kernel on this CPU.
bool reduceKernelUsesAvx2();

// probs and scores: [heads][rows][keys] for query rows [rowBegin, rowBegin + rows); row i sees keys <= rowBegin + i.
// Uses H(p) = LSE - sum p·s and LSE = s[argmax] - log p[argmax], which need no per-element logarithm.
void reduceBlockCpu(const float* probs, const float* scores, int64_t heads, int64_t rows, int64_t keys,
                    int64_t rowBegin, const BlockReduceTargets& out, ReduceKernel kernel = ReduceKernel::Best);

} // namespace attnscope::core

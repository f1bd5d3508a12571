#include "capture/block_reduce.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#define ATTNSCOPE_REDUCE_AVX2 1
#endif

namespace attnscope::core {

namespace {

constexpr int kLanes = 8;
// The row maximum is located chunk by chunk, so that finding its first index rescans one chunk, not the row.
constexpr int64_t kChunk = 256;

struct RowStats {
    float max = 0.0f;
    int64_t arg = 0;  // first key holding max, as argmax
    double dot = 0.0; // sum of p·s
};

// The scalar tail of a chunk and the fold of its lanes, shared by both kernels so that they add in one order: the
// tail first, then lanes 0..7.
struct ChunkTail {
    float max = 0.0f;
    double dot = 0.0;
};
template <bool kCellMax>
inline ChunkTail chunkTail(const float* p, const float* s, int64_t k, int64_t c1, float* acc, float* mx) {
    ChunkTail t;
    for (; k < c1; ++k) {
        const float v = p[k];
        acc[k] += v;
        if constexpr (kCellMax) mx[k] = std::max(mx[k], v);
        t.max = std::max(t.max, v);
        t.dot += double(v) * double(s[k]);
    }
    return t;
}

// Ends a row: the first chunk holding the maximum wins (strict >), then its first key holding it, as argmax.
inline void finishRow(RowStats& r, int64_t bestChunk, const float* p) {
    r.arg = bestChunk;
    while (p[r.arg] != r.max)
        ++r.arg;
}

// One pass over p[0, n) (the keys row q sees): the row's max, argmax and sum of p·s, adding p into acc and, when
// kCellMax, the running maximum into mx. Element-wise accumulation into acc/mx is vertical (row after row), so it
// vectorises; sums across keys happen once per chunk. Independent lanes let the compiler vectorise without
// reassociating one dependency chain; p·s accumulates in double because entropy is a difference of two numbers near
// LSE.
template <bool kCellMax> RowStats reduceRowGeneric(const float* p, const float* s, int64_t n, float* acc, float* mx) {
    RowStats r;
    r.max = -1.0f;
    int64_t bestChunk = 0;
    for (int64_t c0 = 0; c0 < n; c0 += kChunk) {
        const int64_t c1 = std::min(n, c0 + kChunk);
        float lm[kLanes] = {};
        double dt[kLanes] = {};
        int64_t k = c0;
        for (; k + kLanes <= c1; k += kLanes)
            for (int j = 0; j < kLanes; ++j) {
                const float v = p[k + j];
                acc[k + j] += v;
                if constexpr (kCellMax) mx[k + j] = std::max(mx[k + j], v);
                lm[j] = std::max(lm[j], v);
                dt[j] += double(v) * double(s[k + j]);
            }
        ChunkTail t = chunkTail<kCellMax>(p, s, k, c1, acc, mx);
        for (int j = 0; j < kLanes; ++j) {
            t.max = std::max(t.max, lm[j]);
            t.dot += dt[j];
        }
        r.dot += t.dot;
        if (t.max > r.max) r.max = t.max, bestChunk = c0;
    }
    finishRow(r, bestChunk, p);
    return r;
}

// Moves one finished row of cells (the rows of a pyramid cell, accumulated in acc/mx over keys [0, n)) into the
// level's sums and maxima and into received, and clears acc/mx for the next row of cells.
__attribute__((always_inline)) inline void flushCellRowBody(float* acc, float* mx, int64_t n, int64_t width,
                                                            float* sums, float* maxes, float* received) {
    for (int64_t c = 0, k0 = 0; k0 < n; ++c, k0 += width) {
        const int64_t k1 = std::min(n, k0 + width);
        float sum = 0.0f, m = 0.0f;
        for (int64_t k = k0; k < k1; ++k) {
            sum += acc[k];
            m = std::max(m, mx[k]);
        }
        sums[c] += sum;
        maxes[c] = std::max(maxes[c], m);
    }
    for (int64_t k = 0; k < n; ++k)
        received[k] += acc[k];
    std::fill(acc, acc + n, 0.0f);
    std::fill(mx, mx + n, 0.0f);
}

void flushCellRowGeneric(float* acc, float* mx, int64_t n, int64_t width, float* sums, float* maxes, float* received) {
    flushCellRowBody(acc, mx, n, width, sums, maxes, received);
}

#ifdef ATTNSCOPE_REDUCE_AVX2
// reduceRowGeneric with the 8 lanes in one AVX2 register (the build's baseline is SSE2): the same additions in the
// same order, and fma adds the exact double product of two floats, so the results are the generic kernel's bits.
template <bool kCellMax>
__attribute__((target("avx2,fma"))) RowStats reduceRowAvx2(const float* p, const float* s, int64_t n, float* acc,
                                                           float* mx) {
    RowStats r;
    r.max = -1.0f;
    int64_t bestChunk = 0;
    for (int64_t c0 = 0; c0 < n; c0 += kChunk) {
        const int64_t c1 = std::min(n, c0 + kChunk);
        __m256 lm = _mm256_setzero_ps();
        __m256d dLow = _mm256_setzero_pd(), dHigh = _mm256_setzero_pd();
        int64_t k = c0;
        for (; k + kLanes <= c1; k += kLanes) {
            const __m256 v = _mm256_loadu_ps(p + k);
            const __m256 sv = _mm256_loadu_ps(s + k);
            _mm256_storeu_ps(acc + k, _mm256_add_ps(_mm256_loadu_ps(acc + k), v));
            if constexpr (kCellMax) _mm256_storeu_ps(mx + k, _mm256_max_ps(_mm256_loadu_ps(mx + k), v));
            lm = _mm256_max_ps(lm, v);
            dLow = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)),
                                   _mm256_cvtps_pd(_mm256_castps256_ps128(sv)), dLow);
            dHigh = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)),
                                    _mm256_cvtps_pd(_mm256_extractf128_ps(sv, 1)), dHigh);
        }
        float lanesMax[kLanes];
        double lanesDot[kLanes];
        _mm256_storeu_ps(lanesMax, lm);
        _mm256_storeu_pd(lanesDot, dLow);
        _mm256_storeu_pd(lanesDot + 4, dHigh);
        ChunkTail t = chunkTail<kCellMax>(p, s, k, c1, acc, mx);
        for (int j = 0; j < kLanes; ++j) {
            t.max = std::max(t.max, lanesMax[j]);
            t.dot += lanesDot[j];
        }
        r.dot += t.dot;
        if (t.max > r.max) r.max = t.max, bestChunk = c0;
    }
    finishRow(r, bestChunk, p);
    return r;
}

// The compiler vectorises the element-wise half of the flush (received += acc, clearing) with AVX2 here; the sums
// over a cell's keys stay scalar and in order.
__attribute__((target("avx2,fma"))) void flushCellRowAvx2(float* acc, float* mx, int64_t n, int64_t width, float* sums,
                                                          float* maxes, float* received) {
    flushCellRowBody(acc, mx, n, width, sums, maxes, received);
}

bool cpuHasAvx2() {
    static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return has;
}
#else
bool cpuHasAvx2() {
    return false;
}
#endif

struct RowKernels {
    RowStats (*withCellMax)(const float*, const float*, int64_t, float*, float*);
    RowStats (*plain)(const float*, const float*, int64_t, float*, float*);
    void (*flush)(float*, float*, int64_t, int64_t, float*, float*, float*);
};

RowKernels rowKernels(ReduceKernel kernel) {
#ifdef ATTNSCOPE_REDUCE_AVX2
    if (kernel == ReduceKernel::Best && cpuHasAvx2())
        return {&reduceRowAvx2<true>, &reduceRowAvx2<false>, &flushCellRowAvx2};
#endif
    return {&reduceRowGeneric<true>, &reduceRowGeneric<false>, &flushCellRowGeneric};
}

} // namespace

bool reduceKernelUsesAvx2() {
    return cpuHasAvx2();
}

void reduceBlockCpu(const float* probs, const float* scores, int64_t heads, int64_t rows, int64_t keys,
                    int64_t rowBegin, const BlockReduceTargets& out, ReduceKernel kernel) {
    const int64_t T = out.tokens;
    const RowKernels kernels = rowKernels(kernel);
    at::parallel_for(0, heads, 1, [&](int64_t h0, int64_t h1) {
        // Per-thread accumulators of the current row of pyramid cells.
        std::vector<float> acc(out.level > 0 ? static_cast<size_t>(keys) : 0);
        std::vector<float> mx(acc.size());
        for (int64_t h = h0; h < h1; ++h) {
            float* received = out.received + h * T;
            int64_t cellRow = -1, cellRowKeys = 0;
            const auto flush = [&] {
                if (cellRow < 0) return;
                float* row = out.pyramidSums + (h * out.cells + cellRow) * out.cells;
                float* rowMax = out.pyramidMaxes + (h * out.cells + cellRow) * out.cells;
                kernels.flush(acc.data(), mx.data(), cellRowKeys, int64_t(1) << out.level, row, rowMax, received);
            };
            for (int64_t r = 0; r < rows; ++r) {
                const int64_t q = rowBegin + r;
                const float* p = probs + (h * rows + r) * keys;
                const float* s = scores + (h * rows + r) * keys;
                // Keys beyond q are zeros: they change no sum and no maximum, so the pass stops at q.
                RowStats st;
                if (out.level > 0) {
                    if ((q >> out.level) != cellRow) {
                        flush();
                        cellRow = q >> out.level;
                    }
                    st = kernels.withCellMax(p, s, q + 1, acc.data(), mx.data());
                    cellRowKeys = q + 1;
                } else {
                    st = kernels.plain(p, s, q + 1, received, nullptr);
                }
                const double lse = double(s[st.arg]) - std::log(double(st.max));
                out.lse[h * T + q] = float(lse);
                out.entropy[h * T + q] = float(std::max(0.0, lse - st.dot));
                out.firstMass[h * T + q] = p[0];
                out.top1[h * T + q] = st.arg;
            }
            if (out.level > 0) flush();
        }
    });
}

} // namespace attnscope::core

#include "capture/block_reduce.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>

namespace attnscope::core {

namespace {

constexpr int kLanes = 8;

// Sum, maximum and sum of p·s over p[0, n), adding p into received. Independent lanes let the compiler
// vectorise without reassociating one long dependency chain; p·s accumulates in double because entropy is
// computed as a difference of two numbers near LSE.
struct SpanStats {
    float sum = 0.0f, max = 0.0f;
    double dot = 0.0;
};

SpanStats reduceSpan(const float* p, const float* s, float* received, int64_t n) {
    float sum[kLanes] = {}, mx[kLanes] = {};
    double dot[kLanes] = {};
    int64_t k = 0;
    for (; k + kLanes <= n; k += kLanes)
        for (int j = 0; j < kLanes; ++j) {
            const float v = p[k + j];
            received[k + j] += v;
            sum[j] += v;
            mx[j] = std::max(mx[j], v);
            dot[j] += double(v) * double(s[k + j]);
        }
    SpanStats r;
    for (; k < n; ++k) {
        received[k] += p[k];
        r.sum += p[k];
        r.max = std::max(r.max, p[k]);
        r.dot += double(p[k]) * double(s[k]);
    }
    for (int j = 0; j < kLanes; ++j) {
        r.sum += sum[j];
        r.max = std::max(r.max, mx[j]);
        r.dot += dot[j];
    }
    return r;
}

} // namespace

void reduceBlockCpu(const float* probs, const float* scores, int64_t heads, int64_t rows, int64_t keys,
                    int64_t rowBegin, const BlockReduceTargets& out) {
    const int64_t T = out.tokens;
    // Without a pyramid, one span covers the whole row.
    const int64_t width = out.level > 0 ? int64_t(1) << out.level : T;
    at::parallel_for(0, heads, 1, [&](int64_t h0, int64_t h1) {
        for (int64_t h = h0; h < h1; ++h) {
            float* received = out.received + h * T;
            for (int64_t r = 0; r < rows; ++r) {
                const int64_t q = rowBegin + r;
                const float* p = probs + (h * rows + r) * keys;
                const float* s = scores + (h * rows + r) * keys;
                float* sums = out.level > 0 ? out.pyramidSums + (h * out.cells + (q >> out.level)) * out.cells : nullptr;
                float* maxes = out.level > 0 ? out.pyramidMaxes + (h * out.cells + (q >> out.level)) * out.cells : nullptr;
                double dot = 0.0;
                float best = -1.0f;
                int64_t bestCell = 0;
                // Keys beyond q are zeros: they change no sum and no maximum, so spans stop at q.
                for (int64_t c = 0, k0 = 0; k0 <= q; ++c, k0 += width) {
                    const int64_t k1 = std::min(q + 1, k0 + width);
                    const SpanStats st = reduceSpan(p + k0, s + k0, received + k0, k1 - k0);
                    dot += st.dot;
                    if (st.max > best) best = st.max, bestCell = c;
                    if (sums) {
                        sums[c] += st.sum;
                        maxes[c] = std::max(maxes[c], st.max);
                    }
                }
                // The first key of the first span holding the row maximum: the same tie rule as argmax.
                int64_t arg = bestCell * width;
                while (p[arg] != best) ++arg;
                const double lse = double(s[arg]) - std::log(double(best));
                out.lse[h * T + q] = float(lse);
                out.entropy[h * T + q] = float(std::max(0.0, lse - dot));
                out.firstMass[h * T + q] = p[0];
                out.top1[h * T + q] = arg;
            }
        }
    });
}

} // namespace attnscope::core

// The capture's CPU kernels against plain references on random attention: the fused block reduction (AVX2 and
// generic, bit for bit, and both against ATen's softmax statistics), the host pyramid coarsening and means against
// direct sums over the fine cells, and the write queue's order and failure handling.
#include "capture/block_reduce.hpp"
#include "capture/capture_write_queue.hpp"
#include "capture/pyramid.hpp"
#include "store/run_types.hpp"

#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace attnscope;

namespace {

// A causal block of scores and probabilities as the runtime makes them: rows [rowBegin, rowBegin + rows) of a
// T-token sequence, keys [0, rowBegin + rows), -inf above the diagonal; some rows peaked so argmax and entropy near 0
// are exercised.
struct Block {
    int64_t heads = 3, rows = 24, rowBegin = 40, keys = 64;
    at::Tensor scores, probs;
};

Block randomBlock(uint64_t seed) {
    Block b;
    at::manual_seed(seed);
    b.scores = at::randn({b.heads, b.rows, b.keys}) * 3.0;
    b.scores.select(1, 5).select(1, 7).fill_(60.0); // row 5 of every head: one dominant key
    for (int64_t r = 0; r < b.rows; ++r)
        b.scores.select(1, r).narrow(1, b.rowBegin + r + 1, b.keys - b.rowBegin - r - 1).fill_(-INFINITY);
    b.probs = at::softmax(b.scores, -1);
    return b;
}

struct Reduced {
    int64_t tokens, cells;
    std::vector<float> lse, entropy, firstMass, received, sums, maxes;
    std::vector<int64_t> top1;
    core::BlockReduceTargets targets;
};

Reduced reduce(const Block& b, int level, core::ReduceKernel kernel) {
    Reduced r;
    r.tokens = b.rowBegin + b.rows;
    r.cells = level > 0 ? core::pyramidSize(r.tokens, level) : 0;
    const size_t stat = size_t(b.heads * r.tokens);
    r.lse.assign(stat, 0.0f);
    r.entropy.assign(stat, 0.0f);
    r.firstMass.assign(stat, 0.0f);
    r.received.assign(stat, 0.0f);
    r.top1.assign(stat, -1);
    r.sums.assign(size_t(b.heads * r.cells * r.cells), 0.0f);
    r.maxes.assign(r.sums.size(), 0.0f);
    core::BlockReduceTargets& t = r.targets;
    t.tokens = r.tokens;
    t.lse = r.lse.data();
    t.entropy = r.entropy.data();
    t.firstMass = r.firstMass.data();
    t.top1 = r.top1.data();
    t.received = r.received.data();
    t.level = level;
    t.cells = r.cells;
    t.pyramidSums = r.sums.data();
    t.pyramidMaxes = r.maxes.data();
    core::reduceBlockCpu(b.probs.data_ptr<float>(), b.scores.data_ptr<float>(), b.heads, b.rows, b.keys, b.rowBegin, t,
                         kernel);
    return r;
}

} // namespace

TEST(CaptureKernels, Avx2ReductionGivesTheGenericKernelsBits) {
    if (!core::reduceKernelUsesAvx2()) GTEST_SKIP() << "this CPU has no AVX2 + FMA: only the generic kernel runs";
    for (int level : {0, 3})
        for (uint64_t seed : {1, 2, 3}) {
            const Block b = randomBlock(seed);
            const Reduced fast = reduce(b, level, core::ReduceKernel::Best);
            const Reduced generic = reduce(b, level, core::ReduceKernel::Generic);
            // Same additions in the same order; fma adds an exact double product: equal bits, not merely close.
            EXPECT_EQ(0, std::memcmp(fast.lse.data(), generic.lse.data(), fast.lse.size() * 4));
            EXPECT_EQ(0, std::memcmp(fast.entropy.data(), generic.entropy.data(), fast.entropy.size() * 4));
            EXPECT_EQ(fast.top1, generic.top1);
            EXPECT_EQ(0, std::memcmp(fast.received.data(), generic.received.data(), fast.received.size() * 4));
            EXPECT_EQ(0, std::memcmp(fast.sums.data(), generic.sums.data(), fast.sums.size() * 4));
            EXPECT_EQ(fast.maxes, generic.maxes);
        }
}

TEST(CaptureKernels, FusedReductionEqualsAtenStatisticsOfTheBlock) {
    const int level = 3;
    for (uint64_t seed : {4, 5}) {
        const Block b = randomBlock(seed);
        const Reduced r = reduce(b, level, core::ReduceKernel::Best);
        auto lse = at::logsumexp(b.scores, {-1});
        auto entropy = at::xlogy(b.probs, b.probs).sum(-1).neg();
        auto top1 = b.probs.argmax(-1);
        auto received = b.probs.sum(1);
        const int64_t s = int64_t(1) << level;
        for (int64_t h = 0; h < b.heads; ++h) {
            for (int64_t i = 0; i < b.rows; ++i) {
                const size_t at = size_t(h * r.tokens + b.rowBegin + i);
                // LSE from s[argmax] - log p[argmax]: float32 rounding of p and s, ~1e-6 relative at |LSE| <= 60.
                EXPECT_NEAR(r.lse[at], lse[h][i].item<float>(), 1e-4) << h << " " << i;
                // H = LSE - sum p·s (a difference near LSE, summed in double): the same 1e-4 as the run tests.
                EXPECT_NEAR(r.entropy[at], entropy[h][i].item<float>(), 1e-4) << h << " " << i;
                EXPECT_EQ(r.top1[at], top1[h][i].item<int64_t>());
                EXPECT_EQ(r.firstMass[at], b.probs[h][i][0].item<float>());
            }
            for (int64_t k = 0; k < b.keys; ++k) // float32 sums of <= 24 terms <= 1
                EXPECT_NEAR(r.received[size_t(h * r.tokens + k)], received[h][k].item<float>(), 1e-5);
            for (int64_t ci = b.rowBegin / s; ci < r.cells; ++ci)
                for (int64_t cj = 0; cj < r.cells; ++cj) {
                    auto cell = b.probs[h].narrow(0, ci * s - b.rowBegin, s).narrow(1, cj * s, s);
                    const size_t at = size_t((h * r.cells + ci) * r.cells + cj);
                    EXPECT_NEAR(r.sums[at], cell.sum().item<float>(), 1e-5); // 64 terms, float32
                    EXPECT_EQ(r.maxes[at], cell.max().item<float>());
                }
        }
    }
}

TEST(CaptureKernels, CoarseLevelsAndMeansAreSumsOverTheFineCells) {
    // An odd side at every step (13 -> 7 -> 4), partial edge cells: T = 100 tokens at level 3 has 13 cells.
    const int64_t heads = 2, tokens = 100;
    const int level = 3;
    int64_t n = core::pyramidSize(tokens, level);
    ASSERT_EQ(n, 13);
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    std::vector<float> sums(size_t(heads * n * n)), maxes(sums.size());
    for (size_t i = 0; i < sums.size(); ++i)
        sums[i] = u(rng), maxes[i] = u(rng);
    const std::vector<float> fineSums = sums, fineMaxes = maxes;
    const int64_t fineN = n;
    for (int coarse = level + 1; coarse <= level + 2; ++coarse) {
        std::vector<float> s2, m2;
        core::coarsenLevel(sums, maxes, heads, n, s2, m2);
        sums = s2, maxes = m2, n = (n + 1) / 2;
        ASSERT_EQ(n, core::pyramidSize(tokens, coarse));
        const int64_t span = int64_t(1) << (coarse - level); // fine cells per coarse cell side
        const std::vector<float> means = core::pyramidMeans(sums, heads, tokens, coarse);
        for (int64_t h = 0; h < heads; ++h)
            for (int64_t i = 0; i < n; ++i)
                for (int64_t j = 0; j < n; ++j) {
                    double sum = 0;
                    float mx = 0;
                    for (int64_t fi = i * span; fi < std::min(fineN, (i + 1) * span); ++fi)
                        for (int64_t fj = j * span; fj < std::min(fineN, (j + 1) * span); ++fj) {
                            sum += fineSums[size_t((h * fineN + fi) * fineN + fj)];
                            mx = std::max(mx, fineMaxes[size_t((h * fineN + fi) * fineN + fj)]);
                        }
                    const size_t at = size_t((h * n + i) * n + j);
                    EXPECT_NEAR(sums[at], sum, 1e-5); // float32 sums of <= 16 values < 1
                    EXPECT_EQ(maxes[at], mx);
                    const int64_t side = int64_t(1) << coarse;
                    const double rows = std::min(tokens, (i + 1) * side) - i * side;
                    const double cols = std::min(tokens, (j + 1) * side) - j * side;
                    EXPECT_NEAR(means[at], sum / (rows * cols), 1e-6); // float32 division of the same sum
                }
    }
}

TEST(CaptureKernels, WriteQueueRunsJobsInOrderAndReportsTheFirstFailure) {
    std::vector<int> order;
    {
        core::CaptureWriteQueue queue(1);
        for (int i = 0; i < 50; ++i)
            queue.post([&order, i] { order.push_back(i); });
        queue.drain();
        ASSERT_EQ(order.size(), 50u);
        for (int i = 0; i < 50; ++i)
            EXPECT_EQ(order[size_t(i)], i);

        queue.post([] { throw std::runtime_error("disk full"); });
        std::atomic<bool> ranAfter{false};
        // The failure comes back at the next post or at drain, and later jobs are dropped.
        EXPECT_THROW(
            {
                queue.post([&] { ranAfter = true; });
                queue.drain();
            },
            std::runtime_error);
        EXPECT_THROW(queue.drain(), std::runtime_error);
        EXPECT_FALSE(ranAfter);
    }
    // Destroyed with work pending (an interrupted capture): the running job ends, the waiting ones are dropped.
    std::atomic<int> ran{0};
    {
        core::CaptureWriteQueue queue(4);
        for (int i = 0; i < 4; ++i)
            queue.post([&] {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
                ++ran;
            });
    }
    EXPECT_LE(ran.load(), 1);
}

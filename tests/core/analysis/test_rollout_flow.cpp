// Rollout and attention flow (methods.md §6.1) on graphs small enough to work out by hand, streaming rows against
// the dense product, and the limits.
#include "analysis/attention_flow.hpp"
#include "analysis/rollout.hpp"
#include "attention_fixtures.hpp"
#include "errors.hpp"

#include <gtest/gtest.h>

using namespace attnscope;

namespace {

// Two layers, two heads, three tokens. Head averages:
//   layer 0: [1; .5 .5; .2 .3 .5]  -> Â_0 = (A + I)/2 = [1; .25 .75; .1 .15 .75]
//   layer 1: [1; 1 0; 0 1 0]       -> Â_1 = [1; .5 .5; 0 .5 .5]
core::DenseAttention handGraph() {
    static const double heads[2][2][3][3] = {
        {{{1, 0, 0}, {1, 0, 0}, {0, 0, 1}}, {{1, 0, 0}, {0, 1, 0}, {0.4, 0.6, 0}}},
        {{{1, 0, 0}, {1, 0, 0}, {0, 1, 0}}, {{1, 0, 0}, {1, 0, 0}, {0, 1, 0}}},
    };
    return test::denseMap(2, 2, 3, [](int64_t l, int64_t h, int64_t q, int64_t k) { return heads[l][h][q][k]; });
}

// A source of any length whose rows must never be read (for the limits).
class UnreadSource final : public core::AttentionSource {
public:
    explicit UnreadSource(int64_t T) : m_length(T) {}
    int64_t layers() const override { return 2; }
    int64_t heads() const override { return 1; }
    int64_t length() const override { return m_length; }
    void rows(int64_t, int64_t, int64_t, int64_t, std::span<float>) override { ADD_FAILURE() << "rows were read"; }

private:
    int64_t m_length;
};

// Inputs are float32 values such as 0.2 and 0.3 (2^-24 relative), combined in a few double operations.
constexpr double kHandTolerance = 1e-7;

} // namespace

TEST(Rollout, IdentityLayersRollOutToTheIdentity) {
    auto map = test::pointing(3, 2, 6, [](int64_t, int64_t, int64_t q) { return q; });
    for (bool residual : {true, false}) {
        core::Rollout r = core::rollout(map, {residual});
        for (int64_t q = 0; q < 6; ++q)
            for (int64_t k = 0; k < 6; ++k)
                EXPECT_DOUBLE_EQ(r.at(size_t(q), k), q == k ? 1.0 : 0.0);
    }
}

TEST(Rollout, TwoLayersByHand) {
    auto map = handGraph();
    core::Rollout r = core::rollout(map);
    // R = Â_1 Â_0: row 1 = .5 [1 0 0] + .5 [.25 .75 0]; row 2 = .5 [.25 .75 0] + .5 [.1 .15 .75].
    const double expected[3][3] = {{1, 0, 0}, {0.625, 0.375, 0}, {0.175, 0.45, 0.375}};
    for (int64_t q = 0; q < 3; ++q)
        for (int64_t k = 0; k < 3; ++k)
            EXPECT_NEAR(r.at(size_t(q), k), expected[q][k], kHandTolerance) << q << " " << k;
    // Through layer 0 only: Â_0 itself.
    core::Rollout first = core::rollout(map, {true, 0});
    EXPECT_NEAR(first.at(2, 1), 0.15, kHandTolerance);
    // Chosen rows: the same rows.
    const int64_t rows[] = {2, 1};
    core::Rollout chosen = core::rolloutRows(map, rows);
    for (int64_t k = 0; k < 3; ++k) {
        EXPECT_NEAR(chosen.at(0, k), expected[2][k], kHandTolerance);
        EXPECT_NEAR(chosen.at(1, k), expected[1][k], kHandTolerance);
    }
}

TEST(Flow, TwoLayersByHand) {
    auto map = handGraph();
    const int64_t rows[] = {2, 1};
    core::Rollout flow = core::attentionFlow(map, rows);
    // From the top node of position 2 (edges .5 to positions 1 and 2 of layer 1):
    //   to input 0: min(.5, .25) via 1 + min(.5, .1) via 2 = .35
    //   to input 1: min(.5, .75) + min(.5, .15) = .65;  to input 2: min(.5, .75) via 2 = .5;  total 1.5
    EXPECT_NEAR(flow.at(0, 0), 0.35 / 1.5, kHandTolerance);
    EXPECT_NEAR(flow.at(0, 1), 0.65 / 1.5, kHandTolerance);
    EXPECT_NEAR(flow.at(0, 2), 0.5 / 1.5, kHandTolerance);
    // From position 1 (edges .5 to positions 0 and 1): to input 0: .5 + min(.5, .25) = .75; to input 1: .5.
    EXPECT_NEAR(flow.at(1, 0), 0.75 / 1.25, kHandTolerance);
    EXPECT_NEAR(flow.at(1, 1), 0.5 / 1.25, kHandTolerance);
    EXPECT_DOUBLE_EQ(flow.at(1, 2), 0.0);
}

TEST(Rollout, ChosenRowsEqualTheDenseProduct) {
    auto map = test::randomCausal(4, 3, 17, 5);
    core::Rollout all = core::rollout(map);
    const int64_t rows[] = {16, 3, 0, 9};
    core::Rollout chosen = core::rolloutRows(map, rows);
    for (size_t i = 0; i < 4; ++i) {
        double sum = 0;
        for (int64_t k = 0; k < 17; ++k) {
            // The same products summed in another order: double rounding, far below 1e-12.
            EXPECT_NEAR(chosen.at(i, k), all.at(size_t(rows[i]), k), 1e-12);
            sum += chosen.at(i, k);
        }
        EXPECT_NEAR(sum, 1.0, 1e-6); // rows of float32 maps sum to 1 within a few 2^-24 per layer
    }
}

TEST(Rollout, ChunkedStreamingGivesTheSameResults) {
    auto map = test::randomCausal(3, 2, 10, 9);
    test::ChunkedSource chunked(map, 3);
    EXPECT_EQ(core::rollout(chunked).values, core::rollout(map).values);
    const int64_t rows[] = {9, 4};
    EXPECT_EQ(core::rolloutRows(chunked, rows).values, core::rolloutRows(map, rows).values);
    EXPECT_EQ(core::attentionFlow(chunked, rows).values, core::attentionFlow(map, rows).values);
    EXPECT_EQ(chunked.maxAsked(), 3);
}

// Rows longer than one of the threads' key ranges (2048 keys): e_q times every layer's (A + I) / rowsum, computed
// here directly, a row vector at a time.
TEST(Rollout, ChosenRowsOfLongMapsEqualTheProductByHand) {
    const int64_t L = 2, H = 2, T = 2100;
    auto map = test::randomCausal(L, H, T, 21);
    const int64_t rows[] = {T - 1, 2049};
    core::Rollout chosen = core::rolloutRows(map, rows);
    for (size_t i = 0; i < 2; ++i) {
        std::vector<double> v(size_t(T), 0.0);
        v[size_t(rows[i])] = 1.0;
        for (int64_t l = L - 1; l >= 0; --l) {
            std::vector<double> next(static_cast<size_t>(T), 0.0), aug(static_cast<size_t>(T), 0.0);
            for (int64_t j = 0; j < T; ++j) {
                if (v[size_t(j)] == 0.0) continue;
                double sum = 0;
                for (int64_t k = 0; k <= j; ++k) {
                    aug[size_t(k)] = (double(map.at(l, 0, j, k)) / H + double(map.at(l, 1, j, k)) / H) + (k == j);
                    sum += aug[size_t(k)];
                }
                for (int64_t k = 0; k <= j; ++k)
                    next[size_t(k)] += v[size_t(j)] * aug[size_t(k)] / sum;
            }
            v = next;
        }
        for (int64_t k = 0; k < T; ++k)
            ASSERT_NEAR(chosen.at(i, k), v[size_t(k)], 1e-12) << "row " << rows[i] << " key " << k; // summation order
    }
}

TEST(Rollout, LimitsAndArguments) {
    UnreadSource longRun(core::kRolloutMaxTokens + 1);
    EXPECT_THROW(core::rollout(longRun), core::ArgumentError);
    UnreadSource longFlow(core::kFlowMaxTokens + 1);
    const int64_t row[] = {0};
    EXPECT_THROW(core::attentionFlow(longFlow, row), core::ArgumentError);
    auto map = handGraph();
    const int64_t outside[] = {3};
    EXPECT_THROW(core::rolloutRows(map, outside), core::ArgumentError);
    EXPECT_THROW(core::attentionFlow(map, outside), core::ArgumentError);
    EXPECT_THROW(core::rollout(map, {true, 2}), core::ArgumentError);
    EXPECT_THROW(core::rolloutRows(map, {}), core::ArgumentError);
}

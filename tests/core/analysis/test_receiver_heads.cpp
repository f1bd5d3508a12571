// Sentence x sentence attention, vertical scores, kurtosis and receiver heads (methods.md §4.5) on hand-built
// inputs whose answers are worked out in the comments.
#include "analysis/receiver_heads.hpp"
#include "attention_fixtures.hpp"
#include "errors.hpp"

#include <gtest/gtest.h>

#include <cmath>

using namespace attnscope;

namespace {

// Float32 storage of values combined in double: 2^-24 relative, a few ulps on values below 1.
constexpr double kFloatTolerance = 1e-6;

using Ranges = std::vector<std::array<int64_t, 2>>;

// M[i][j] = 10 i + j + 1 everywhere (the upper triangle too, to see that it is masked).
core::SentenceAttention countingMatrix(int64_t N) {
    core::SentenceAttention m(1, 1, N);
    for (int64_t i = 0; i < N; ++i)
        for (int64_t j = 0; j < N; ++j)
            m.at(0, 0, i, j) = float(10 * i + j + 1);
    return m;
}

} // namespace

TEST(SentenceAttention, BlockMeansIncludeCausalZerosAndDropTheLastToken) {
    // A[q,k] = 1/(q+1), T = 6. Ranges clip to T-1 = 5, so the third sentence is query/key token 4 alone.
    auto map = test::uniformCausal(1, 1, 6);
    const Ranges ranges = {{0, 2}, {2, 4}, {4, 6}, {6, 6}};
    const auto m = core::sentenceAttention(map, ranges);
    ASSERT_EQ(m.sentences, 4);
    EXPECT_NEAR(m.at(0, 0, 0, 0), (1 + 0 + 0.5 + 0.5) / 4, kFloatTolerance);               // upper triangle included
    EXPECT_NEAR(m.at(0, 0, 1, 0), (1.0 / 3 + 1.0 / 3 + 0.25 + 0.25) / 4, kFloatTolerance); // 7/24
    EXPECT_NEAR(m.at(0, 0, 1, 1), (1.0 / 3 + 0 + 0.25 + 0.25) / 4, kFloatTolerance);       // 5/24
    EXPECT_EQ(m.at(0, 0, 0, 1), 0.0f);                                                     // j > i: all zeros
    EXPECT_NEAR(m.at(0, 0, 2, 0), 0.2, kFloatTolerance);
    EXPECT_NEAR(m.at(0, 0, 2, 2), 0.2, kFloatTolerance);
    for (int64_t k = 0; k < 4; ++k) { // the empty (clipped) sentence has no block
        EXPECT_TRUE(std::isnan(m.at(0, 0, 3, k)));
        EXPECT_TRUE(std::isnan(m.at(0, 0, k, 3)));
    }
}

TEST(SentenceAttention, StreamedBlocksEqualTheDirectMeans) {
    auto dense = test::randomCausal(2, 3, 23, 7);
    test::ChunkedSource chunked(dense, 4);
    const Ranges ranges = {{1, 5}, {5, 6}, {6, 13}, {13, 20}, {20, 23}};
    const auto m = core::sentenceAttention(chunked, ranges);
    for (int64_t l = 0; l < 2; ++l)
        for (int64_t h = 0; h < 3; ++h)
            for (int64_t i = 0; i < 5; ++i)
                for (int64_t j = 0; j < 5; ++j) {
                    const int64_t si = ranges[i][0], ei = std::min<int64_t>(ranges[i][1], 22);
                    const int64_t sj = ranges[j][0], ej = std::min<int64_t>(ranges[j][1], 22);
                    double sum = 0;
                    for (int64_t q = si; q < ei; ++q)
                        for (int64_t k = sj; k < ej; ++k)
                            sum += dense.at(l, h, q, k);
                    EXPECT_NEAR(m.at(l, h, i, j), sum / double((ei - si) * (ej - sj)), kFloatTolerance);
                }
    EXPECT_EQ(chunked.maxAsked(), 4);
}

TEST(SentenceAttention, RejectsRangesOutsideTheMap) {
    auto map = test::uniformCausal(1, 1, 6);
    EXPECT_THROW(core::sentenceAttention(map, Ranges{{0, 7}}), core::ArgumentError);
    EXPECT_THROW(core::sentenceAttention(map, Ranges{{3, 2}}), core::ArgumentError);
}

TEST(VerticalScores, MeanOverSentencesAtLeastPLater) {
    const auto m = countingMatrix(5);
    core::VerticalOptions o;
    o.proximityIgnore = 2;
    const auto scores = core::verticalScores(m, o);
    const auto v = scores.head(0, 0);
    EXPECT_FLOAT_EQ(v[0], 31.0f); // M[2..4, 0] = 21, 31, 41
    EXPECT_FLOAT_EQ(v[1], 37.0f); // 32, 42
    EXPECT_FLOAT_EQ(v[2], 43.0f);
    EXPECT_TRUE(std::isnan(v[3]) && std::isnan(v[4])); // no sentence 2 or more later
    o.proximityIgnore = 0;
    const auto allScores = core::verticalScores(m, o);
    const auto all = allScores.head(0, 0);
    EXPECT_FLOAT_EQ(all[3], 39.0f); // the diagonal counts when P = 0: 34, 44
    EXPECT_FLOAT_EQ(all[4], 45.0f);
    o.proximityIgnore = 1;
    o.median = true;
    EXPECT_FLOAT_EQ(core::verticalScores(m, o).values[0], 26.0f); // 11, 21, 31, 41 -> (21 + 31) / 2
}

TEST(VerticalScores, ControlDepthRanksEachRow) {
    auto m = countingMatrix(5);
    m.at(0, 0, 4, 1) = 41.0f; // a tie in row 4: average ranks
    core::VerticalOptions o;
    o.proximityIgnore = 2;
    o.controlDepth = true;
    const auto scores = core::verticalScores(m, o);
    const auto v = scores.head(0, 0);
    // Row 2: {21} -> 1. Row 3: {31, 32} -> 1/2, 1. Row 4: {41, 41, 43} -> 1.5/3, 1.5/3, 1.
    EXPECT_NEAR(v[0], (1.0 + 0.5 + 0.5) / 3, kFloatTolerance);
    EXPECT_NEAR(v[1], (1.0 + 0.5) / 2, kFloatTolerance);
    EXPECT_NEAR(v[2], 1.0, kFloatTolerance);
    EXPECT_THROW(core::verticalScores(m, core::VerticalOptions{-1}), core::ArgumentError);
}

TEST(Kurtosis, FisherBiasedNanOmittedLikeScipy) {
    const float nan = std::nanf("");
    // One-hot of n values: m4 / m2^2 = (n^2 - 3n + 3) / (n - 1), minus 3.
    EXPECT_NEAR(core::kurtosis(std::vector<float>{0, 0, 0, 1}), 7.0 / 3 - 3, 1e-12);
    EXPECT_NEAR(core::kurtosis(std::vector<float>{0, nan, 0, 0, 1, nan}), 7.0 / 3 - 3, 1e-12);
    EXPECT_NEAR(core::kurtosis(std::vector<float>{0, 0, 0, 0, 0, 0, 0, 0, 0, 1}), 73.0 / 9 - 3, 1e-12);
    EXPECT_NEAR(core::kurtosis(std::vector<float>{1, 2}), 1.0 - 3, 1e-12); // two points: m4 = m2^2
    EXPECT_TRUE(std::isnan(core::kurtosis(std::vector<float>{0.25f, 0.25f, 0.25f})));
    EXPECT_TRUE(std::isnan(core::kurtosis(std::vector<float>{nan, nan})));
    EXPECT_TRUE(std::isnan(core::kurtosis(std::vector<float>{})));
}

TEST(ReceiverHeads, TopKSkipsLayerZeroAndNan) {
    core::HeadScores k(3, 2);
    const double nan = std::nan("");
    k.values = {100, nan, 5, 7, nan, 7};
    const auto top2 = core::receiverHeads(k, 2);
    ASSERT_EQ(top2.size(), 2u);
    EXPECT_EQ(top2[0].layer, 1); // ties (7, 7) in (layer, head) order
    EXPECT_EQ(top2[0].head, 1);
    EXPECT_EQ(top2[1].layer, 2);
    EXPECT_EQ(top2[1].head, 1);
    const auto all = core::receiverHeads(k);
    ASSERT_EQ(all.size(), 3u); // fewer than 20 qualify
    EXPECT_EQ(all[2].layer, 1);
    EXPECT_EQ(all[2].head, 0);
    EXPECT_DOUBLE_EQ(all[2].kurtosis, 5);
}

// Twelve sentences of three tokens after BOS. Head (2, 1) sends every query of sentences 2.. to the first token of
// sentence 1, so its vertical scores are one-hot over the 8 sentences with receivers (P = 4): kurtosis
// (64 - 24 + 3) / 7 - 3 = 22/7. Head (0, 0) does the same but layer 0 is never a receiver head; the rest are uniform.
TEST(ReceiverHeads, APointingHeadIsTheReceiverAndItsSentenceBroadcasts) {
    const int64_t N = 12, T = 1 + 3 * N;
    auto map = test::denseMap(3, 2, T, [](int64_t l, int64_t h, int64_t q, int64_t k) {
        if ((l == 2 && h == 1) || (l == 0 && h == 0)) return k == (q >= 7 ? 4 : 0) ? 1.0 : 0.0;
        return 1.0 / double(q + 1);
    });
    Ranges ranges;
    for (int64_t i = 0; i < N; ++i)
        ranges.push_back({1 + 3 * i, 4 + 3 * i});
    const auto r = core::receiverHeadReport(map, ranges, {}, 1);
    EXPECT_NEAR(r.kurtosis.at(2, 1), 22.0 / 7, 1e-9);
    EXPECT_NEAR(r.kurtosis.at(0, 0), r.kurtosis.at(2, 1), 1e-9);
    ASSERT_EQ(r.heads.size(), 1u);
    EXPECT_EQ(r.heads[0].layer, 2);
    EXPECT_EQ(r.heads[0].head, 1);
    ASSERT_EQ(r.broadcast.size(), size_t(N));
    EXPECT_NEAR(r.broadcast[1], 1.0 / 3, kFloatTolerance); // one key of three in each receiving block row
    for (int64_t j : {0, 2, 3, 4, 5, 6, 7})
        EXPECT_EQ(r.broadcast[size_t(j)], 0.0f) << j;
    for (int64_t j = N - 4; j < N; ++j)
        EXPECT_TRUE(std::isnan(r.broadcast[size_t(j)])) << j;
}

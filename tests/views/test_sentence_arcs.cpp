// The sentence view's pure geometry: strongest links (causal, distance, NaN, ties, one source), the mean matrix of
// picked heads, flow layout of sentence blocks, and arcs (endpoints on block tops, control points above, width and
// alpha by weight, the peak above both blocks).
#include "sentence_arcs.hpp"

#include <gtest/gtest.h>

#include <cmath>

using namespace attnscope::views;

namespace {

// 4 sentences; row = attending, column = attended. Upper triangle (later sentences) must never be chosen.
const std::vector<float> kMatrix{
    0.9f, 0.8f, 0.8f, 0.8f, //
    0.5f, 0.4f, 0.8f, 0.8f, //
    0.2f, 0.3f, 0.9f, 0.8f, //
    0.3f, NAN,  0.1f, 0.9f, //
};

TEST(SentenceLinks, StrongestBelowTheDiagonal) {
    using L = std::vector<SentenceLink>;
    EXPECT_EQ(strongestLinks(kMatrix, 4, 3), (L{{1, 0, 0.5f}, {2, 1, 0.3f}, {3, 0, 0.3f}}));
    EXPECT_EQ(strongestLinks(kMatrix, 4, 100).size(), 5u); // 6 below the diagonal, one NaN
    EXPECT_EQ(strongestLinks(kMatrix, 4, 2, 2), (L{{3, 0, 0.3f}, {2, 0, 0.2f}}));
    EXPECT_EQ(strongestLinks(kMatrix, 4, 5, 1, 3), (L{{3, 0, 0.3f}, {3, 2, 0.1f}}));
    EXPECT_EQ(strongestLinks(kMatrix, 4, 5, 0, 0), (L{{0, 0, 0.9f}})); // distance 0 allows self-links
    EXPECT_TRUE(strongestLinks(kMatrix, 4, 0).empty());
    EXPECT_TRUE(strongestLinks(kMatrix, 5, 3).empty()); // matrix too small for n
}

TEST(SentenceLinks, MeanOfPickedHeads) {
    // 1 layer x 3 heads of 2 x 2.
    const std::vector<float> m{1, 0, 2, 4, /**/ 3, 0, NAN, 8, /**/ 100, 100, 100, 100};
    const std::vector<std::pair<int64_t, int64_t>> picked{{0, 0}, {0, 1}, {5, 5}};
    const auto mean = meanHeadMatrix(m, 1, 3, 2, picked);
    ASSERT_EQ(mean.size(), 4u);
    EXPECT_FLOAT_EQ(mean[0], 2);
    EXPECT_FLOAT_EQ(mean[1], 0);
    EXPECT_FLOAT_EQ(mean[2], 2); // NaN ignored
    EXPECT_FLOAT_EQ(mean[3], 6);
    const std::vector<std::pair<int64_t, int64_t>> outside{{1, 0}};
    EXPECT_TRUE(meanHeadMatrix(m, 1, 3, 2, outside).empty());
}

TEST(SentenceBlocks, FlowWraps) {
    const std::vector<std::pair<float, float>> sizes{{40, 10}, {50, 20}, {30, 10}, {200, 10}, {10, 10}};
    const auto b = flowBlocks(sizes, 100, 5, 30, 50);
    ASSERT_EQ(b.size(), 5u);
    struct Case {
        size_t i;
        float x0, y0, x1, y1;
    };
    for (const Case& c : std::vector<Case>{{0, 0, 50, 40, 60},
                                           {1, 45, 50, 95, 70},
                                           {2, 0, 100, 30, 110},  // row 2: 50 + 20 (tallest) + 30
                                           {3, 0, 140, 100, 150}, // clipped to the width, its own row
                                           {4, 0, 180, 10, 190}}) {
        EXPECT_EQ(b[c.i].x0, c.x0) << c.i;
        EXPECT_EQ(b[c.i].y0, c.y0) << c.i;
        EXPECT_EQ(b[c.i].x1, c.x1) << c.i;
        EXPECT_EQ(b[c.i].y1, c.y1) << c.i;
    }
}

TEST(SentenceArcsGeometry, EndpointsLiftAndWeight) {
    const std::vector<GridRect> blocks{{0, 100, 100, 120}, {200, 100, 300, 120}, {0, 200, 100, 220}};
    const std::vector<SentenceLink> links{{1, 0, 0.4f}, {2, 0, 0.1f}, {2, 1, 0.0f}};
    ArcStyle style;
    const auto arcs = sentenceArcs(links, blocks, style);
    ASSERT_EQ(arcs.size(), 3u);
    // Strongest: full thickness and alpha; from block 1's top centre to block 0's.
    EXPECT_EQ(arcs[0].p0.x, 250);
    EXPECT_EQ(arcs[0].p0.y, 100);
    EXPECT_EQ(arcs[0].p1.x, 50);
    EXPECT_FLOAT_EQ(arcs[0].thickness, style.maxThickness);
    EXPECT_FLOAT_EQ(arcs[0].alpha, style.maxAlpha);
    // lift = 0.3 * 200 = 60 above the higher endpoint.
    EXPECT_FLOAT_EQ(arcs[0].c0.y, 40);
    EXPECT_FLOAT_EQ(arcs[0].c1.y, 40);
    EXPECT_FLOAT_EQ(arcPoint(arcs[0], 0.5f).y, 100 - 0.75f * 60); // the peak: 3/4 of the lift
    EXPECT_FLOAT_EQ(arcPoint(arcs[0], 0).x, 250);
    EXPECT_FLOAT_EQ(arcPoint(arcs[0], 1).x, arcs[0].p1.x);
    // A quarter of the strongest weight: a quarter of the way from the minimum.
    EXPECT_FLOAT_EQ(arcs[1].thickness, style.minThickness + 0.25f * (style.maxThickness - style.minThickness));
    EXPECT_FLOAT_EQ(arcs[2].alpha, style.minAlpha);
    // The second arc into block 0 lands beside the first, not on it.
    EXPECT_NE(arcs[1].p1.x, arcs[0].p1.x);
    EXPECT_EQ(arcs[1].p1.y, 100);
    // Between rows: the lift counts half the vertical distance, the control points rise above the higher block.
    EXPECT_FLOAT_EQ(arcs[1].c0.y, 100 - std::clamp(0.3f * std::abs(arcs[1].p1.x - 50) + 50, 12.0f, 120.0f));
}

TEST(SentenceArcsGeometry, LiftIsClampedAndMissingBlocksSkipped) {
    const std::vector<GridRect> blocks{{0, 100, 10, 110}, {12, 100, 22, 110}, {2000, 100, 2010, 110}};
    const std::vector<SentenceLink> links{{1, 0, 1}, {2, 0, 1}, {7, 0, 1}};
    const auto arcs = sentenceArcs(links, blocks);
    ASSERT_EQ(arcs.size(), 2u);
    EXPECT_FLOAT_EQ(arcs[0].c0.y, 100 - 12);  // neighbours: the minimum lift
    EXPECT_FLOAT_EQ(arcs[1].c0.y, 100 - 120); // far apart: the maximum
}

} // namespace

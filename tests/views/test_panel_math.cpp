// views/panel_math.hpp: table-driven cases for the model panels' pure helpers (distributions, loss means,
// debouncing, sweep bookkeeping, default names, screening text, difference checks).
#include "panel_math.hpp"

#include "errors.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace attnscope::views {
namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();

TEST(PanelMath, TopKFromLogitsIsSoftmaxOrderedWithTiesByLowerId) {
    const std::vector<float> logits{0.0f, 2.0f, 1.0f, 2.0f};
    const auto top = topKFromLogits(logits.data(), 4, 3);
    ASSERT_EQ(top.size(), 3u);
    EXPECT_EQ(top[0].id, 1);
    EXPECT_EQ(top[1].id, 3);
    EXPECT_EQ(top[2].id, 2);
    const double z = 1 + 2 * std::exp(2.0) + std::exp(1.0);
    EXPECT_NEAR(top[0].prob, std::exp(2.0) / z, 1e-6); // float rounding of a probability
    EXPECT_NEAR(top[2].prob, std::exp(1.0) / z, 1e-6);
    EXPECT_EQ(topKFromLogits(logits.data(), 4, 10).size(), 4u);
    EXPECT_TRUE(topKFromLogits(logits.data(), 4, 0).empty());
}

TEST(PanelMath, StoredTopKReadsOnePositionAndSkipsPadding) {
    core::RunOutput out;
    for (int t = 0; t < 2; ++t)
        for (int i = 0; i < core::kTopK; ++i) {
            out.topkIds.push_back(i < 3 ? 10 * t + i : -1);
            out.topkProbs.push_back(i < 3 ? 0.5f / float(i + 1) : 0.0f);
        }
    const auto top = storedTopK(out, 1);
    ASSERT_EQ(top.size(), 3u);
    EXPECT_EQ(top[0].id, 10);
    EXPECT_EQ(top[2].id, 12);
    EXPECT_FLOAT_EQ(top[1].prob, 0.25f);
    EXPECT_TRUE(storedTopK(out, 2).empty());
    EXPECT_TRUE(storedTopK(out, -1).empty());
    EXPECT_TRUE(storedTopK(core::RunOutput{}, 0).empty());
}

TEST(PanelMath, CompareDistributionsUnitesBothListsByLargerProbability) {
    const auto rows = compareDistributions({{5, 0.6f}, {7, 0.3f}}, {{7, 0.7f}, {9, 0.1f}});
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0].id, 7); // 0.7 after beats 0.6 before
    EXPECT_FLOAT_EQ(rows[0].before, 0.3f);
    EXPECT_FLOAT_EQ(rows[0].after, 0.7f);
    EXPECT_EQ(rows[1].id, 5);
    EXPECT_TRUE(std::isnan(rows[1].after));
    EXPECT_EQ(rows[2].id, 9);
    EXPECT_TRUE(std::isnan(rows[2].before));
}

TEST(PanelMath, MeanFiniteAndComparePosition) {
    struct Case {
        std::vector<float> values;
        double mean;
    };
    const Case cases[] = {{{1, 2, 3, kNaN}, 2.0}, {{kNaN}, kNaN}, {{}, kNaN}, {{4}, 4.0}};
    for (const auto& c : cases) {
        const double m = meanFinite(c.values);
        if (std::isnan(c.mean))
            EXPECT_TRUE(std::isnan(m));
        else
            EXPECT_DOUBLE_EQ(m, c.mean);
    }
    struct Pos {
        int64_t tokens, selected, expected;
    };
    const Pos positions[] = {{10, -1, 9}, {10, 3, 3}, {10, 10, 9}, {10, 0, 0}, {0, 2, -1}};
    for (const auto& p : positions)
        EXPECT_EQ(comparePosition(p.tokens, p.selected), p.expected) << p.tokens << " " << p.selected;
}

TEST(PanelMath, DebouncerFiresOnceAfterTheLastChangeRests) {
    Debouncer d(0.3);
    EXPECT_FALSE(d.due(10.0));
    d.touch(0.0);
    d.touch(0.2); // still dragging
    EXPECT_FALSE(d.due(0.4));
    EXPECT_TRUE(d.pending());
    EXPECT_TRUE(d.due(0.5));
    EXPECT_FALSE(d.due(0.6));
    EXPECT_FALSE(d.pending());
    d.touch(1.0);
    EXPECT_TRUE(d.due(1.3));
}

TEST(PanelMath, SweepTableFillsInWithNaNForHeadsNotDone) {
    SweepTable t(2, 3);
    EXPECT_EQ(t.total(), 6);
    HeadMetric empty = t.metric("ablation/delta_loss (live)");
    EXPECT_EQ(empty.values.size(), 6u);
    for (double v : empty.values)
        EXPECT_TRUE(std::isnan(v));
    EXPECT_DOUBLE_EQ(empty.vmax, empty.vmin + 1.0);
    t.set(0, 1, 0.5);
    t.set(1, 2, -0.25);
    t.set(1, 0, std::numeric_limits<double>::quiet_NaN()); // done, but without a value
    t.set(5, 0, 1.0);                                      // outside: ignored
    EXPECT_EQ(t.done(), 3);
    const HeadMetric m = t.metric("x");
    EXPECT_DOUBLE_EQ(m.values[1], 0.5);
    EXPECT_DOUBLE_EQ(m.values[5], -0.25);
    EXPECT_TRUE(std::isnan(m.values[0]));
    EXPECT_DOUBLE_EQ(m.vmin, -0.25);
    EXPECT_DOUBLE_EQ(m.vmax, 0.5);

    std::vector<HeadMetric> live;
    upsertMetric(live, t.metric("a"));
    upsertMetric(live, t.metric("b"));
    upsertMetric(live, SweepTable(1, 1).metric("a"));
    ASSERT_EQ(live.size(), 2u);
    EXPECT_EQ(live[0].values.size(), 1u);
    eraseMetric(live, "a");
    ASSERT_EQ(live.size(), 1u);
    EXPECT_EQ(live[0].name, "b");
}

TEST(PanelMath, RunsFolderAndTimestampName) {
    EXPECT_EQ(runsFolder("/x/data", "/home/u"), std::filesystem::path("/x/data/attnscope/runs"));
    EXPECT_EQ(runsFolder("", "/home/u"), std::filesystem::path("/home/u/.local/share/attnscope/runs"));
    EXPECT_EQ(runsFolder(nullptr, nullptr), std::filesystem::path("attnscope-runs"));
    EXPECT_EQ(timestampRunName(0), "19700101-000000.attn.h5");
    EXPECT_EQ(timestampRunName(1700000000), "20231114-221320.attn.h5");
}

TEST(PanelMath, ScreeningItemSplitsTheTextAtTheMiddleToken) {
    core::RunTokens t;
    t.text = "a b c d";
    t.ids = {0, 1, 2, 3, 4};
    t.spans = {{{0, 0}}, {{0, 1}}, {{1, 3}}, {{3, 5}}, {{5, 7}}};
    const core::TaskItem item = screeningItem(t);
    EXPECT_EQ(item.prompt, "a"); // token 2 of 5 starts at byte 1
    EXPECT_EQ(item.answer, " b c d");
    core::RunTokens one;
    one.ids = {0};
    one.spans = {{{0, 0}}};
    EXPECT_THROW(screeningItem(one), core::ArgumentError);
}

TEST(PanelMath, DifferenceNeedsTheSameShapeAndLength) {
    RunSnapshot a, b;
    a.model.nLayers = b.model.nLayers = 4;
    a.model.nHeads = b.model.nHeads = 8;
    a.tokens.ids.resize(10);
    b.tokens.ids.resize(10);
    EXPECT_EQ(differenceBlocker(a, b), "");
    b.tokens.ids.resize(12);
    EXPECT_EQ(differenceBlocker(a, b), "The runs have different lengths (10 and 12 tokens).");
    b.model.nHeads = 4;
    EXPECT_EQ(differenceBlocker(a, b), "The runs have different shapes (4x8 and 4x4 heads).");
    EXPECT_EQ(headRefs({{1, 2}}).front(), (core::HeadRef{1, 2, false}));
}

} // namespace
} // namespace attnscope::views

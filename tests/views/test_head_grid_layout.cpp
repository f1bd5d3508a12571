// The head grid's pure layout: cell rectangles with 1 px gaps and KV-group gaps, pixel -> head hit tests (cells, gaps,
// labels, outside), colour fractions, the top-heads list's order and its filter text. Table-driven, no drawing.
#include "head_grid_layout.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

using namespace attnscope::views;

namespace {

HeadGridOptions options() {
    HeadGridOptions o;
    o.gap = 1, o.groupGap = 6, o.labelWidth = 30, o.headerHeight = 20;
    o.minCell = 3, o.maxCellWidth = 48, o.maxCellHeight = 28;
    return o;
}

TEST(HeadGridLayout, CellsFillTheWidthInWholePixels) {
    // 4 layers x 8 heads, no GQA, 300 x 200: (300 - 30 - 7) / 8 = 32.875 -> 32; (200 - 20 - 3) / 4 = 44.25 -> 28.
    const HeadGridLayout g(4, 8, 8, 300, 200, options());
    EXPECT_FALSE(g.grouped());
    EXPECT_EQ(g.cellWidth(), 32);
    EXPECT_EQ(g.cellHeight(), 28);
    struct Case {
        int64_t layer, head;
        float x0, y0;
    };
    for (const Case& c : std::vector<Case>{{0, 0, 30, 20}, {0, 1, 63, 20}, {1, 0, 30, 49}, {3, 7, 30 + 7 * 33, 107}}) {
        const GridRect r = g.cell(c.layer, c.head);
        EXPECT_EQ(r.x0, c.x0) << c.layer << "," << c.head;
        EXPECT_EQ(r.y0, c.y0) << c.layer << "," << c.head;
        EXPECT_EQ(r.width(), 32);
        EXPECT_EQ(r.height(), 28);
    }
    EXPECT_EQ(g.contentWidth(), 30 + 8 * 32 + 7);
    EXPECT_EQ(g.contentHeight(), 20 + 4 * 28 + 3);
}

TEST(HeadGridLayout, GqaGroupsHaveAWiderGapAndAHeader) {
    // 8 heads on 2 KV heads: two groups of 4, 6 px more between them.
    const HeadGridLayout g(2, 8, 2, 30 + 8 * 10 + 7 + 6, 20 + 2 * 10 + 1, options());
    ASSERT_TRUE(g.grouped());
    EXPECT_EQ(g.groups(), 2);
    EXPECT_EQ(g.groupSize(), 4);
    EXPECT_EQ(g.cellWidth(), 10);
    EXPECT_EQ(g.cell(0, 3).x1, 30 + 4 * 10 + 3);
    EXPECT_EQ(g.cell(0, 4).x0 - g.cell(0, 3).x1, 7); // gap + groupGap
    EXPECT_EQ(g.cell(0, 5).x0 - g.cell(0, 4).x1, 1);
    EXPECT_EQ(g.group(1).x0, g.cell(0, 4).x0);
    EXPECT_EQ(g.group(1).x1, g.cell(0, 7).x1);
    EXPECT_EQ(g.group(0).y1, 20);
}

TEST(HeadGridLayout, KvHeadsThatDoNotDivideMakeOneGroup) {
    EXPECT_FALSE(HeadGridLayout(2, 6, 4, 400, 100, options()).grouped());
    EXPECT_FALSE(HeadGridLayout(2, 6, 0, 400, 100, options()).grouped());
    EXPECT_TRUE(HeadGridLayout(2, 6, 3, 400, 100, options()).grouped());
}

TEST(HeadGridLayout, SmallSpaceClampsToTheMinimumCell) {
    const HeadGridLayout g(32, 32, 8, 50, 50, options());
    EXPECT_EQ(g.cellWidth(), 3);
    EXPECT_EQ(g.cellHeight(), 3);
    EXPECT_GT(g.contentWidth(), 50); // the view scrolls
}

TEST(HeadGridLayout, HitTest) {
    const HeadGridLayout g(2, 8, 2, 30 + 8 * 10 + 7 + 6, 20 + 2 * 10 + 1, options());
    struct Case {
        float x, y;
        std::optional<HeadId> want;
    };
    const std::vector<Case> cases{
        {30, 20, HeadId{0, 0}},          // top-left pixel of the first cell
        {39.9f, 29.9f, HeadId{0, 0}},    // its last pixel
        {40, 25, std::nullopt},          // the 1 px gap right of it
        {41, 25, HeadId{0, 1}},          //
        {35, 30, std::nullopt},          // the gap between layers
        {35, 31, HeadId{1, 0}},          //
        {30 + 43 + 3, 25, std::nullopt}, // inside the KV-group gap
        {30 + 43 + 7, 25, HeadId{0, 4}}, // first head of group 1
        {g.cell(1, 7).x1 - 0.5f, g.cell(1, 7).y1 - 0.5f, HeadId{1, 7}},
        {g.cell(1, 7).x1, 35, std::nullopt}, // right edge
        {10, 25, std::nullopt},              // layer labels
        {35, 10, std::nullopt},              // header
        {35, 100, std::nullopt},             // below
    };
    for (const Case& c : cases) {
        const auto got = g.hit(c.x, c.y);
        ASSERT_EQ(got.has_value(), c.want.has_value()) << c.x << "," << c.y;
        if (got) EXPECT_EQ(*got, *c.want) << c.x << "," << c.y;
    }
    // Every cell's centre hits that cell.
    for (int64_t l = 0; l < 2; ++l)
        for (int64_t h = 0; h < 8; ++h) {
            const GridRect r = g.cell(l, h);
            const auto got = g.hit((r.x0 + r.x1) / 2, (r.y0 + r.y1) / 2);
            ASSERT_TRUE(got);
            EXPECT_EQ(*got, (HeadId{l, h}));
        }
}

TEST(HeadGridLayout, EmptyGridHitsNothing) {
    const HeadGridLayout g(0, 0, 0, 100, 100, options());
    EXPECT_FALSE(g.hit(40, 30));
}

TEST(HeadGridMetric, Fraction) {
    EXPECT_FLOAT_EQ(metricFraction(0.5, 0, 1), 0.5f);
    EXPECT_FLOAT_EQ(metricFraction(-3, 0, 1), 0.0f);
    EXPECT_FLOAT_EQ(metricFraction(3, 0, 1), 1.0f);
    EXPECT_FLOAT_EQ(metricFraction(2, 2, 2), 0.5f);
    EXPECT_TRUE(std::isnan(metricFraction(NAN, 0, 1)));
    const std::vector<double> values{NAN, 2, -1, INFINITY, 5};
    EXPECT_EQ(finiteRange(values), std::make_pair(-1.0, 5.0));
    EXPECT_EQ(finiteRange(std::vector<double>{NAN}), std::make_pair(0.0, 1.0));
    EXPECT_EQ(finiteRange(std::vector<double>{3, 3}), std::make_pair(3.0, 4.0));
}

// 2 layers x 3 heads.
const std::vector<double> kValues{0.5, NAN, 2.5, 12.53, 0.5, -1};

std::vector<std::pair<int64_t, int64_t>> order(const std::vector<HeadValue>& rows) {
    std::vector<std::pair<int64_t, int64_t>> out;
    for (const auto& r : rows)
        out.emplace_back(r.layer, r.head);
    return out;
}

TEST(HeadGridList, SortByValueNanLastTiesByHead) {
    using P = std::vector<std::pair<int64_t, int64_t>>;
    EXPECT_EQ(order(sortHeads(kValues, 2, 3, HeadSortKey::Value, true)),
              (P{{1, 0}, {0, 2}, {0, 0}, {1, 1}, {1, 2}, {0, 1}}));
    EXPECT_EQ(order(sortHeads(kValues, 2, 3, HeadSortKey::Value, false)),
              (P{{1, 2}, {0, 0}, {1, 1}, {0, 2}, {1, 0}, {0, 1}}));
    EXPECT_EQ(order(sortHeads(kValues, 2, 3, HeadSortKey::Layer, true)),
              (P{{1, 0}, {1, 1}, {1, 2}, {0, 0}, {0, 1}, {0, 2}}));
    EXPECT_EQ(order(sortHeads(kValues, 2, 3, HeadSortKey::Head, false)),
              (P{{0, 0}, {1, 0}, {0, 1}, {1, 1}, {0, 2}, {1, 2}}));
}

TEST(HeadGridList, Filter) {
    struct Case {
        const char* filter;
        int64_t layer, head;
        double value;
        bool want;
    };
    const std::vector<Case> cases{
        {"", 3, 1, 0.1, true},         {"L2", 2, 5, 0.1, true},    {"l2", 2, 5, 0.1, true},
        {"L2", 12, 5, 0.1, false},     {"H5", 2, 5, 0.1, true},    {"H5", 2, 15, 0.1, false},
        {"L2H5", 2, 5, 0.1, true},     {"L2H5", 2, 4, 0.1, false}, {"L2 H5", 2, 5, 0.1, true},
        {"2.5", 0, 0, 2.5, true},      {"2.5", 0, 0, 12.53, true}, {"2.5", 0, 0, 0.25, false},
        {">0.5", 0, 0, 0.7, true},     {">0.5", 0, 0, 0.5, false}, {">=0.5", 0, 0, 0.5, true},
        {"<0", 0, 0, -1, true},        {"<=x", 0, 0, -1, false},   {">0", 0, 0, NAN, false},
        {"nan", 0, 0, NAN, true},      {"nan", 0, 0, 1, false},    {"L2 >0.5", 2, 0, 0.7, true},
        {"L2 >0.5", 2, 0, 0.2, false}, {"Lx", 2, 0, 0.2, false},   {"foo", 2, 0, 0.2, false},
        {"  L1  ", 1, 0, 0.2, true},
    };
    for (const Case& c : cases)
        EXPECT_EQ(headMatches(c.filter, HeadValue{c.layer, c.head, c.value}), c.want)
            << "'" << c.filter << "' on L" << c.layer << " H" << c.head << " = " << c.value;
}

TEST(HeadGridList, FormatValue) {
    EXPECT_EQ(formatMetricValue(0.123456), "0.1235");
    EXPECT_EQ(formatMetricValue(12345678), "1.235e+07");
    EXPECT_EQ(formatMetricValue(NAN), "not yet");
}

} // namespace

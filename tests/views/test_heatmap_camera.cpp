// HeatmapCamera as plain math, table-driven (in the manner of hotspot's tst_timelinedelegate): pixel <-> token round
// trips, zoom about the cursor, box zoom, clamping, level choice, visible tiles, colour scales. No window, no GL.
#include "frame_script.hpp"
#include "heatmap_camera.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <tuple>

namespace attnscope::views {
namespace {

// Doubles throughout; 1e-9 relative covers the few operations between a value and its round trip.
constexpr double kEps = 1e-9;

HeatmapCamera camera(int64_t tokens, double w = 800, double h = 800) {
    HeatmapCamera c;
    c.setTokens(tokens);
    c.setViewport(w, h);
    return c;
}

TEST(HeatmapCamera, FitShowsTheWholeMapCentred) {
    struct Case {
        int64_t tokens;
        double w, h, tokensPerPixel;
    };
    for (const Case& k : {Case{100, 800, 800, 0.125}, Case{32768, 800, 600, 32768.0 / 600}, Case{131072, 800, 800, 163.84}}) {
        const auto c = camera(k.tokens, k.w, k.h);
        EXPECT_NEAR(c.tokensPerPixel(), k.tokensPerPixel, kEps * k.tokensPerPixel) << k.tokens;
        const CamVec centre = c.pixelToToken({k.w / 2, k.h / 2});
        EXPECT_NEAR(centre.x, k.tokens / 2.0, kEps * k.tokens);
        EXPECT_NEAR(centre.y, k.tokens / 2.0, kEps * k.tokens);
        // The map's corners are inside the view (on its edges along the smaller side).
        const CamVec a = c.tokenToPixel({0, 0}), b = c.tokenToPixel({double(k.tokens), double(k.tokens)});
        EXPECT_GE(a.x, -kEps); EXPECT_GE(a.y, -kEps); EXPECT_LE(b.x, k.w + kEps); EXPECT_LE(b.y, k.h + kEps);
    }
}

TEST(HeatmapCamera, PixelTokenRoundTrips) {
    auto c = camera(4096, 900, 700);
    c.zoomAbout({100, 200}, 7.5);
    c.pan(33, -12);
    for (const CamVec px : {CamVec{0, 0}, CamVec{450, 350}, CamVec{899, 1}, CamVec{13.25, 611.5}}) {
        const CamVec back = c.tokenToPixel(c.pixelToToken(px));
        EXPECT_NEAR(back.x, px.x, 1e-6); EXPECT_NEAR(back.y, px.y, 1e-6);
    }
    // Row 0 is on top: a larger y pixel is a later query.
    EXPECT_LT(c.pixelToToken({10, 10}).y, c.pixelToToken({10, 500}).y);
}

TEST(HeatmapCamera, ZoomKeepsThePointUnderTheCursor) {
    struct Case {
        CamVec cursor;
        double factor;
    };
    for (const Case& k : {Case{{400, 400}, 2.0}, Case{{100, 700}, 1.25}, Case{{650, 90}, 8.0}, Case{{300, 300}, 0.5},
                          Case{{799, 1}, 1.1}}) {
        auto c = camera(32768);
        c.zoomAbout({400, 400}, 4.0); // leave the fitted view so that zooming out is not clamped away
        const CamVec before = c.pixelToToken(k.cursor);
        c.zoomAbout(k.cursor, k.factor);
        const CamVec after = c.pixelToToken(k.cursor);
        EXPECT_NEAR(after.x, before.x, 1e-6 * 32768) << k.cursor.x << "," << k.cursor.y << " x" << k.factor;
        EXPECT_NEAR(after.y, before.y, 1e-6 * 32768);
    }
}

TEST(HeatmapCamera, ZoomAndPanAreClamped) {
    auto c = camera(1000);
    for (int i = 0; i < 100; ++i)
        c.zoomAbout({400, 400}, 2.0);
    EXPECT_NEAR(c.pixelsPerToken(), HeatmapCamera::kMaxCellPx, kEps);
    c.fit();
    for (int i = 0; i < 100; ++i)
        c.zoomAbout({400, 400}, 0.5);
    EXPECT_NEAR(c.tokensPerPixel(), 1000.0 / 800 / HeatmapCamera::kMinFitFraction, kEps);
    // Dragging the map far right/down leaves its top-left kKeepPx inside the view; far left/up, its bottom-right.
    c.fit();
    c.pan(1e6, 1e6);
    EXPECT_NEAR(c.tokenToPixel({0, 0}).x, 800 - HeatmapCamera::kKeepPx, 1e-6);
    c.pan(-1e7, -1e7);
    EXPECT_NEAR(c.tokenToPixel({1000, 1000}).y, HeatmapCamera::kKeepPx, 1e-6);
}

TEST(HeatmapCamera, BoxZoomFitsTheBox) {
    auto c = camera(8000);
    const CamVec a{200, 300}, b{400, 400}; // 200 x 100 px: width decides
    const CamVec ta = c.pixelToToken(a), tb = c.pixelToToken(b);
    c.boxZoom(b, a);
    const CamVec pa = c.tokenToPixel(ta), pb = c.tokenToPixel(tb);
    EXPECT_NEAR(pa.x, 0, 1e-6); EXPECT_NEAR(pb.x, 800, 1e-6);
    EXPECT_NEAR((pa.y + pb.y) / 2, 400, 1e-6);
    const auto s = c.state();
    c.boxZoom({10, 10}, {12, 12}); // a click, not a box
    EXPECT_EQ(c.state(), s);
}

TEST(HeatmapCamera, KeyboardStepsAreATenthOfTheView) {
    auto c = camera(8000);
    c.zoomAbout({400, 400}, 4);
    const CamVec before = c.pixelToToken({400, 400});
    c.step(1, 0);
    EXPECT_NEAR(c.pixelToToken({400, 400}).x - before.x, 80 * c.tokensPerPixel(), 1e-6);
    c.step(0, -1);
    EXPECT_NEAR(c.pixelToToken({400, 400}).y - before.y, -80 * c.tokensPerPixel(), 1e-6);
}

TEST(HeatmapCamera, LevelKeepsCellsAtLeastOnePixel) {
    struct Case {
        int64_t tokens;
        double zoom;
        int level;
    };
    // 800 px views: 100 tokens -> 0.125 tokens/px (level 0); 32K -> 40.96 tokens/px, cells of 64 tokens (1.56 px);
    // 128K -> 163.84 tokens/px, cells of 256 tokens (1.56 px); zoomed in 41x, 32K is at about one token per pixel.
    for (const Case& k : {Case{100, 1, 0}, Case{32768, 1, 6}, Case{131072, 1, 8}, Case{32768, 40.96, 0},
                          Case{32768, 40.0, 1}, Case{131072, 2, 7}, Case{1024, 1.28, 0}, Case{1024, 1.0, 1}}) {
        auto c = camera(k.tokens);
        c.zoomAbout({400, 400}, k.zoom);
        const int maxLevel = HeatmapCamera::maxLevelFor(k.tokens);
        const int level = c.level(maxLevel);
        EXPECT_EQ(level, k.level) << k.tokens << " tokens x" << k.zoom;
        EXPECT_GE(std::ldexp(1.0, level) * c.pixelsPerToken(), 1.0 - 1e-9);
        if (level > 0) {
            EXPECT_LT(std::ldexp(1.0, level - 1) * c.pixelsPerToken(), 1.0);
        }
    }
    EXPECT_EQ(HeatmapCamera::maxLevelFor(1), 0);
    EXPECT_EQ(HeatmapCamera::maxLevelFor(32768), 15);
    EXPECT_EQ(HeatmapCamera::maxLevelFor(1000), 10);
    EXPECT_EQ(HeatmapCamera::overviewLevel(32768, 256), 7);
    EXPECT_EQ(HeatmapCamera::overviewLevel(200, 256), 0);
    EXPECT_EQ(camera(1000).level(0), 0); // clamped to the levels there are
}

TEST(HeatmapCamera, VisibleTilesCoverTheViewClippedToTheMap) {
    // Fitted 32K in 800 px: level 6, 512 cells, 2 x 2 tiles of 256; three of them touch the causal half.
    auto c = camera(32768);
    const TileRange all = c.visibleTiles(6, 256);
    EXPECT_EQ(all.row0, 0); EXPECT_EQ(all.row1, 2); EXPECT_EQ(all.col0, 0); EXPECT_EQ(all.col1, 2);
    EXPECT_EQ(orderedTiles(all, c).size(), 3u);
    // Zoomed to one token per pixel around token 20000: 800 tokens wide, level 0, cells 19600..20400.
    c.centreOn({20000, 20000});
    c.zoomAbout({400, 400}, 40.96);
    const TileRange r = c.visibleTiles(0, 256);
    EXPECT_EQ(r.col0, 19600 / 256); EXPECT_EQ(r.col1, (20400 + 255) / 256);
    EXPECT_EQ(r.row0, 19600 / 256); EXPECT_EQ(r.row1, (20400 + 255) / 256);
    const auto tiles = orderedTiles(r, c);
    ASSERT_FALSE(tiles.empty());
    // The first is the one under the centre; none lies wholly above the diagonal.
    EXPECT_EQ(tiles.front(), std::make_pair(int64_t(20000 / 256), int64_t(20000 / 256)));
    for (const auto& t : tiles)
        EXPECT_LE(t.second, t.first);
    // Panned off the map's top-left: only tiles inside the map.
    c.centreOn({0, 0});
    const TileRange corner = c.visibleTiles(0, 256);
    EXPECT_EQ(corner.row0, 0); EXPECT_EQ(corner.col0, 0); EXPECT_EQ(corner.row1, 2);
}

TEST(HeatmapScales, Positions) {
    struct Case {
        HeatmapScale scale;
        double v, vmax, rowMax, t;
    };
    for (const Case& k : {Case{HeatmapScale::Linear, 0.25, 0.5, 0, 0.5}, Case{HeatmapScale::Linear, 2, 0.5, 0, 1},
                          Case{HeatmapScale::Linear, -1, 0.5, 0, 0}, Case{HeatmapScale::Linear, 1, 0, 0, 0},
                          Case{HeatmapScale::Log, 1, 1, 0, 1}, Case{HeatmapScale::Log, 1e-3, 1, 0, 0},
                          Case{HeatmapScale::Log, 1e-2, 1, 0, 1.0 / 3}, Case{HeatmapScale::Log, 0.01, 0.1, 0, 2.0 / 3},
                          Case{HeatmapScale::Log, 1e-5, 1, 0, 0}, Case{HeatmapScale::Log, 0, 1, 0, 0},
                          Case{HeatmapScale::Row, 0.1, 1, 0.4, 0.25}, Case{HeatmapScale::Row, 0.4, 1, 0.4, 1},
                          Case{HeatmapScale::Row, 0.0, 1, 0.0, 0}})
        EXPECT_NEAR(scaleValue(k.scale, k.v, k.vmax, k.rowMax), k.t, 1e-12)
            << int(k.scale) << " v=" << k.v << " vmax=" << k.vmax << " rowMax=" << k.rowMax;
    EXPECT_DOUBLE_EQ(scaleDiff(0, 0.2), 0.5);
    EXPECT_DOUBLE_EQ(scaleDiff(-0.2, 0.2), 0.0);
    EXPECT_DOUBLE_EQ(scaleDiff(0.1, 0.2), 0.75);
    EXPECT_DOUBLE_EQ(scaleDiff(0.5, 0.2), 1.0);
    float lo[3], mid[3], hi[3];
    divergingRgb(0, lo), divergingRgb(0.5, mid), divergingRgb(1, hi);
    EXPECT_GT(lo[2], lo[0]);                           // blue below zero
    EXPECT_GT(hi[0], hi[2]);                           // red above
    EXPECT_FLOAT_EQ(mid[0], mid[1]); EXPECT_FLOAT_EQ(mid[1], mid[2]); // neutral at zero
}

TEST(FrameScript, IsDeterministicAndVisitsEveryZoom) {
    auto run = [](int64_t tokens) {
        auto c = camera(tokens);
        FrameScript script;
        std::vector<HeatmapCamera::State> states;
        int finest = 99, coarsest = 0;
        while (!script.done()) {
            script.apply(c);
            states.push_back(c.state());
            const int level = c.level(HeatmapCamera::maxLevelFor(tokens));
            finest = std::min(finest, level), coarsest = std::max(coarsest, level);
        }
        EXPECT_EQ(int(states.size()), FrameScript::kFrames);
        return std::make_tuple(states, finest, coarsest);
    };
    const auto [a, finestA, coarsestA] = run(32768);
    const auto [b, finestB, coarsestB] = run(32768);
    EXPECT_EQ(a, b);
    // 32K in 800 px: from the overview (level 6) down to single tokens.
    EXPECT_EQ(finestA, 0);
    EXPECT_EQ(coarsestA, 6);
    // The far end is visited: some frame's centre is past 90% of the run.
    bool farEnd = false;
    for (const auto& s : a)
        farEnd = farEnd || s.cx > 0.9 * 32768;
    EXPECT_TRUE(farEnd);
    EXPECT_STREQ(FrameScript::actionName(0), "fit");
    EXPECT_STREQ(FrameScript::actionName(10), "zoom in");
}

TEST(FramePercentiles, NearestRank) {
    std::vector<double> v;
    for (int i = 100; i >= 1; --i)
        v.push_back(i); // 1..100 ms, unsorted
    const auto p = framePercentiles(v);
    EXPECT_EQ(p.count, 100u);
    EXPECT_DOUBLE_EQ(p.p50, 50);
    EXPECT_DOUBLE_EQ(p.p95, 95);
    EXPECT_DOUBLE_EQ(p.p99, 99);
    EXPECT_DOUBLE_EQ(p.max, 100);
    EXPECT_DOUBLE_EQ(p.mean, 50.5);
    const auto one = framePercentiles({7.0});
    EXPECT_DOUBLE_EQ(one.p50, 7);
    EXPECT_DOUBLE_EQ(one.p99, 7);
    EXPECT_EQ(framePercentiles({}).count, 0u);
}

} // namespace
} // namespace attnscope::views

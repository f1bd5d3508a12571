// The text view's pure math: causal reach, weights -> shades (max or fixed scale, self excluded, gamma), the mean of
// picked heads, token text with newlines, greedy wrapping; and fetchWeights (rows and columns read with
// RunReader::block, averaged over heads) against the known run's loop-computed probabilities, plus AttentionFetch
// keeping only the latest request.
#include "attention_fetch.hpp"
#include "core/store/known_run.hpp"
#include "errors.hpp"
#include "store/run_reader.hpp"
#include "support/test_paths.hpp"
#include "text_shading.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <thread>

using namespace attnscope;
using namespace attnscope::views;

namespace {

TEST(TextShading, Reach) {
    EXPECT_TRUE(shadeReachable(ShadeDirection::FromSelected, 5, 0));
    EXPECT_TRUE(shadeReachable(ShadeDirection::FromSelected, 5, 5));
    EXPECT_FALSE(shadeReachable(ShadeDirection::FromSelected, 5, 6));
    EXPECT_FALSE(shadeReachable(ShadeDirection::ToSelected, 5, 4));
    EXPECT_TRUE(shadeReachable(ShadeDirection::ToSelected, 5, 5));
    EXPECT_TRUE(shadeReachable(ShadeDirection::ToSelected, 5, 9));
    EXPECT_FALSE(shadeReachable(ShadeDirection::ToSelected, -1, 9));
}

std::vector<float> alphas(const std::vector<TokenShade>& s) {
    std::vector<float> out;
    for (const auto& x : s)
        out.push_back(x.alpha);
    return out;
}

TEST(TextShading, MaxScaleExcludesSelf) {
    // Row of query 3: keys 0..3 reachable, 4 and 5 not (their weights must be ignored even if nonzero).
    const std::vector<float> w{0.1f, 0.2f, 0.05f, 0.65f, 0.9f, 0.9f};
    ShadeOptions o;
    const auto s = shadeTokens(w, 3, o);
    EXPECT_EQ(alphas(s), (std::vector<float>{0.5f, 1.0f, 0.25f, 1.0f, 0.0f, 0.0f}));
    EXPECT_TRUE(s[3].reachable);
    EXPECT_FALSE(s[4].reachable);
    o.excludeSelf = false;
    const auto t = shadeTokens(w, 3, o);
    EXPECT_FLOAT_EQ(t[1].alpha, 0.2f / 0.65f);
    EXPECT_FLOAT_EQ(t[3].alpha, 1.0f);
}

TEST(TextShading, ColumnAndFixedScale) {
    const std::vector<float> w{0.7f, 0.0f, 0.3f, 0.1f, NAN};
    ShadeOptions o;
    o.direction = ShadeDirection::ToSelected;
    o.scale = ShadeScale::Fixed;
    o.fixedMax = 0.2f;
    const auto s = shadeTokens(w, 1, o);
    EXPECT_EQ(alphas(s), (std::vector<float>{0.0f, 0.0f, 1.0f, 0.5f, 0.0f}));
    EXPECT_FALSE(s[0].reachable);
    EXPECT_TRUE(s[4].reachable);
}

TEST(TextShading, OnlySelfReachableScalesBySelf) {
    // The first query sees only itself; the last key is seen only by itself.
    EXPECT_EQ(alphas(shadeTokens(std::vector<float>{1.0f, 0, 0}, 0, {})), (std::vector<float>{1, 0, 0}));
    ShadeOptions o;
    o.direction = ShadeDirection::ToSelected;
    EXPECT_EQ(alphas(shadeTokens(std::vector<float>{0, 0, 0.4f}, 2, o)), (std::vector<float>{0, 0, 1}));
    EXPECT_EQ(alphas(shadeTokens(std::vector<float>{0, 0, 0}, 2, o)), (std::vector<float>{0, 0, 0}));
}

TEST(TextShading, NoSelectionNoShade) {
    const std::vector<float> w{0.5f, 0.5f};
    for (int64_t sel : {-1, 2}) {
        const auto s = shadeTokens(w, sel, {});
        EXPECT_EQ(alphas(s), (std::vector<float>{0, 0}));
        EXPECT_FALSE(s[0].reachable);
    }
}

TEST(TextShading, Gamma) {
    ShadeOptions o;
    o.gamma = 0.5f;
    const auto s = shadeTokens(std::vector<float>{0.25f, 1.0f, 0.0f}, 2, o);
    EXPECT_FLOAT_EQ(s[0].alpha, 0.5f);
    EXPECT_FLOAT_EQ(s[1].alpha, 1.0f);
}

TEST(TextShading, MeanOfHeads) {
    const std::vector<std::vector<float>> heads{{1, 0, 0.5f}, {0, 1, 0.5f}, {0.5f, 0.5f, 0.5f}};
    EXPECT_EQ(meanOfHeads(heads), (std::vector<float>{0.5f, 0.5f, 0.5f}));
    EXPECT_TRUE(meanOfHeads({}).empty());
}

TEST(TextShading, Colours) {
    EXPECT_GT(shadeColour(1, ShadeDirection::FromSelected)[0], shadeColour(1, ShadeDirection::FromSelected)[2]);
    EXPECT_GT(shadeColour(1, ShadeDirection::ToSelected)[2], shadeColour(1, ShadeDirection::ToSelected)[0]);
    EXPECT_EQ(shadeColour(0, ShadeDirection::ToSelected)[3], 0.0f);
    EXPECT_EQ(shadeColour(NAN, ShadeDirection::ToSelected)[3], 0.0f);
    EXPECT_FLOAT_EQ(shadeColour(2, ShadeDirection::ToSelected)[3], 0.85f);
}

TEST(TextShading, TokenText) {
    core::RunTokens t;
    t.text = "<s>Hi\tthere\n\nNew\npara\r\n";
    // "<s>" has an empty span (piece shown), then "Hi", "\tthere\n\n", "New\npara", "\r\n"
    t.spans = {{0, 0}, {3, 5}, {5, 13}, {13, 21}, {21, 23}};
    t.pieces = {"<s>", "Hi", "x", "y", "z"};
    struct Case {
        int64_t i;
        std::string text;
        bool before, after;
    };
    for (const Case& c : std::vector<Case>{{0, "<s>", false, false},
                                           {1, "Hi", false, false},
                                           {2, " there", false, true},
                                           {3, "New para", false, false},
                                           {4, "", false, true}}) {
        const TokenText tt = tokenText(t, c.i);
        EXPECT_EQ(tt.text, c.text) << c.i;
        EXPECT_EQ(tt.breakBefore, c.before) << c.i;
        EXPECT_EQ(tt.breakAfter, c.after) << c.i;
    }
    t.text = "a\nb";
    t.spans = {{0, 1}, {1, 3}};
    EXPECT_TRUE(tokenText(t, 1).breakBefore);
    EXPECT_EQ(tokenText(t, 1).text, "b");
    // Word-level spans leave the spaces out: the blank gap before a word is its own.
    t.text = "Mia hid  the";
    t.spans = {{0, 3}, {4, 7}, {9, 12}};
    EXPECT_EQ(tokenText(t, 1).text, " hid");
    EXPECT_EQ(tokenText(t, 2).text, "  the");
}

TEST(TextShading, Wrap) {
    const std::vector<float> w{10, 10, 10, 25, 10, 10};
    const std::vector<uint8_t> none(6, 0);
    EXPECT_EQ(wrapTokens(w, none, none, 30), (std::vector<int64_t>{0, 3, 4}));
    EXPECT_EQ(wrapTokens(w, none, none, 20), (std::vector<int64_t>{0, 2, 3, 4}));
    EXPECT_EQ(wrapTokens(w, none, none, 1000), (std::vector<int64_t>{0}));
    std::vector<uint8_t> before(6, 0), after(6, 0);
    before[2] = 1, after[4] = 1;
    EXPECT_EQ(wrapTokens(w, before, after, 1000), (std::vector<int64_t>{0, 2, 5}));
    EXPECT_TRUE(wrapTokens({}, {}, {}, 100).empty());
    // A token wider than the line sits alone.
    EXPECT_EQ(wrapTokens(std::vector<float>{50, 5}, none, none, 30), (std::vector<int64_t>{0, 1}));
}

struct Known {
    test::KnownRun run;
    std::filesystem::path full, recompute;
    Known() {
        const auto dir = test::scratchDir("text_shading");
        full = dir / "full.attn.h5", recompute = dir / "recompute.attn.h5";
        run.write(full, run.layout(true, {}));
        run.write(recompute, run.layout(false, {}));
    }
};

const Known& known() {
    static const Known k;
    return k;
}

TEST(TextFetch, RowsAndColumnsAveragedOverHeads) {
    const auto& r = known().run;
    const std::vector<std::pair<int64_t, int64_t>> heads{{0, 1}, {1, 2}, {1, 3}};
    for (const auto& path : {known().full, known().recompute}) {
        core::RunReader reader(path);
        for (int64_t token : {int64_t(0), int64_t(17), r.T - 1})
            for (auto direction : {ShadeDirection::FromSelected, ShadeDirection::ToSelected}) {
                const auto w = fetchWeights(reader, {path, heads, token, direction});
                ASSERT_EQ(w.size(), size_t(r.T));
                for (int64_t t = 0; t < r.T; ++t) {
                    double want = 0;
                    for (const auto& [l, h] : heads)
                        want += direction == ShadeDirection::FromSelected ? r.p(l, h, token, t) : r.p(l, h, t, token);
                    want /= double(heads.size());
                    // Half storage (2^-11 relative) or recomputation from half Q/K without the low parts (about 2^-8
                    // relative at these sigma-1.5 scores, see test_run_tiles' bounds): 2^-7 relative + 2^-20.
                    EXPECT_NEAR(w[size_t(t)], want, want * 0x1p-7 + 0x1p-20)
                        << path << " token " << token << " t " << t;
                }
            }
    }
}

TEST(TextFetch, BadTokenIsAnArgumentError) {
    core::RunReader reader(known().full);
    EXPECT_THROW(fetchWeights(reader, {known().full, {{0, 0}}, known().run.T, ShadeDirection::FromSelected}),
                 core::ArgumentError);
    EXPECT_THROW(fetchWeights(reader, {known().full, {{2, 0}}, 3, ShadeDirection::FromSelected}), core::ArgumentError);
}

// Polls until nothing is in flight (at most 5 s: each fetch here reads a few hundred bytes).
void settle(AttentionFetch& fetch) {
    for (int i = 0; i < 5000 && fetch.busy(); ++i) {
        fetch.poll();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    fetch.poll();
}

TEST(TextFetch, OnlyTheLatestRequestIsKept) {
    const auto& path = known().recompute;
    AttentionFetch fetch;
    EXPECT_EQ(fetch.latest(), nullptr);
    for (int64_t token = 0; token < 20; ++token)
        fetch.request({path, {{0, 0}, {1, 1}}, token, ShadeDirection::FromSelected});
    settle(fetch);
    ASSERT_NE(fetch.latest(), nullptr);
    EXPECT_TRUE(fetch.current());
    EXPECT_EQ(fetch.latest()->query.token, 19);
    EXPECT_TRUE(fetch.error().empty());
    core::RunReader reader(path);
    EXPECT_EQ(fetch.latest()->weights, fetchWeights(reader, fetch.latest()->query));

    fetch.request({path, {{0, 0}}, 999, ShadeDirection::FromSelected});
    settle(fetch);
    EXPECT_FALSE(fetch.current());
    EXPECT_NE(fetch.error().find("token 999"), std::string::npos) << fetch.error();

    fetch.request({path, {}, 3, ShadeDirection::FromSelected}); // no heads: cleared
    settle(fetch);
    EXPECT_EQ(fetch.latest(), nullptr);
    EXPECT_FALSE(fetch.busy());
}

TEST(TextFetch, MissingFileIsAnError) {
    AttentionFetch fetch;
    fetch.request({"/nonexistent/x.attn.h5", {{0, 0}}, 0, ShadeDirection::FromSelected});
    settle(fetch);
    EXPECT_NE(fetch.error().find("/nonexistent/x.attn.h5"), std::string::npos) << fetch.error();
}

} // namespace

// Tiles of the known run served from full maps, the stored pyramid, pooled finer levels and Q/K/LSE recomputation,
// each compared with the loop-computed answer under a tolerance derived from float16 rounding.
#include "errors.hpp"
#include "known_run.hpp"
#include "store/run_reader.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>

#include <cmath>

using namespace attnscope;
using attnscope::test::KnownRun;
using core::TileReduce;
using core::TileSource;

namespace {

// Round to nearest half: relative error <= 2^-11 (11 significant bits) for normal values, absolute <= 2^-25 (half the
// subnormal spacing 2^-24) below 2^-14.
constexpr double kHalfRel = 0x1p-11, kHalfAbs = 0x1p-25;
// The reader returns float32: one more rounding of a double result, relative 2^-24 (2^-23 leaves room for the sum).
constexpr double kFloatRel = 0x1p-23;

std::vector<double> halfBounds(const std::vector<double>& values) {
    std::vector<double> bounds(values.size());
    for (size_t i = 0; i < values.size(); ++i)
        bounds[i] = std::abs(values[i]) * kHalfRel + kHalfAbs;
    return bounds;
}

// Bound on |recomputed - exact| for one probability p = exp(scale * q.k - lse). Q and K are stored as half:
// |q~k~ - qk| <= |q||k|(2u + u^2) + (|q| + |k|)(1 + u) 2^-25 + 2^-50 per term (u = 2^-11; the 2^-25 terms cover
// subnormals); the float32 dot of d terms adds <= d 2^-24 sum|q~k~|; LSE stored as float32 adds |lse| 2^-24. The
// score error delta gives |p~ - p| <= p (e^delta - 1), and the float32 result one more 2^-23 p.
std::vector<double> recomputeBounds(const KnownRun& run) {
    std::vector<double> bounds(run.probs.size(), 0.0);
    const double u = kHalfRel;
    for (int64_t l = 0; l < run.L; ++l)
        for (int64_t h = 0; h < run.H; ++h)
            for (int64_t i = 0; i < run.T; ++i)
                for (int64_t j = 0; j <= i; ++j) {
                    const float *q = run.qAt(l, h, i), *k = run.kAt(l, h, j);
                    double absDot = 0, absSum = 0;
                    for (int64_t e = 0; e < run.d; ++e) {
                        absDot += std::abs(double(q[e]) * k[e]);
                        absSum += std::abs(q[e]) + std::abs(k[e]);
                    }
                    const double inputs = absDot * (2 * u + u * u) + absSum * (1 + u) * 0x1p-25 + run.d * 0x1p-50;
                    const double dotError = run.d * 0x1p-24 * (absDot + inputs);
                    const double lseError = std::abs(run.lse[size_t((l * run.H + h) * run.T + i)]) * 0x1p-24;
                    const double delta = run.scale * (inputs + dotError) + lseError;
                    const double p = run.p(l, h, i, j);
                    bounds[size_t(((l * run.H + h) * run.T + i) * run.T + j)] = p * std::expm1(delta) + p * kFloatRel;
                }
    return bounds;
}

struct Runs {
    KnownRun run;
    std::filesystem::path full, recompute, fullOnly, pyramidOnly;
    Runs() {
        const auto dir = test::scratchDir("tiles");
        full = dir / "full.attn.h5";                // full maps + pyramid {1, 2} + Q/K
        recompute = dir / "recompute.attn.h5";      // Q/K only: every tile recomputed
        fullOnly = dir / "full_only.attn.h5";       // full maps, no pyramid, no Q/K
        pyramidOnly = dir / "pyramid_only.attn.h5"; // pyramid {2} only
        run.write(full, run.layout(true, {1, 2}));
        run.write(recompute, run.layout(false, {}));
        run.write(fullOnly, run.layout(true, {}, false));
        run.write(pyramidOnly, run.layout(false, {2}, false));
    }
};

const Runs& runs() {
    static const Runs r;
    return r;
}

// Every tile of sizes 16 and 64 at `level` over all heads, each cell within tolerance of the reference
// ([L][H][n][n], as KnownRun::pool lays it out).
void expectTiles(core::RunReader& reader, int level, TileReduce reduce, const std::vector<double>& reference,
                 const std::vector<double>& tolerance, TileSource source) {
    const KnownRun& run = runs().run;
    const int64_t n = core::pyramidSize(run.T, level);
    double worst = 0; // largest |error| / tolerance seen
    for (int64_t l = 0; l < run.L; ++l)
        for (int64_t h = 0; h < run.H; ++h)
            for (int64_t size : {16, 64})
                for (int64_t r0 = 0; r0 < n; r0 += size)
                    for (int64_t c0 = 0; c0 < n; c0 += size) {
                        const core::Tile t = reader.tile(l, h, level, r0, c0, size, reduce);
                        ASSERT_EQ(t.rows, std::min(size, n - r0));
                        ASSERT_EQ(t.cols, std::min(size, n - c0));
                        ASSERT_EQ(t.values.size(), size_t(t.rows * t.cols));
                        ASSERT_EQ(t.level, level);
                        ASSERT_EQ(t.source, source) << "level " << level;
                        for (int64_t i = 0; i < t.rows; ++i)
                            for (int64_t j = 0; j < t.cols; ++j) {
                                const size_t at = size_t(((l * run.H + h) * n + r0 + i) * n + c0 + j);
                                const double error = std::abs(t.values[size_t(i * t.cols + j)] - reference[at]);
                                ASSERT_LE(error, tolerance[at]) << "layer " << l << " head " << h << " level " << level
                                                                << " cell (" << r0 + i << ", " << c0 + j << ")";
                                if (tolerance[at] > 0) worst = std::max(worst, error / tolerance[at]);
                            }
                    }
    ::testing::Test::RecordProperty("worst_error_over_tolerance_level_" + std::to_string(level), std::to_string(worst));
}

// Tolerance of a cell pooled from cells with element bounds `bounds`: the mean (max) of the bounds, plus the float32
// rounding of the result.
std::vector<double> pooledBounds(const std::vector<double>& bounds, const std::vector<double>& values, int level,
                                 bool max) {
    std::vector<double> pooled = runs().run.pool(bounds, level, max);
    for (size_t i = 0; i < pooled.size(); ++i)
        pooled[i] += std::abs(values[i]) * kFloatRel;
    return pooled;
}

} // namespace

TEST(RunTiles, Level0FromFullMapsEqualsProbsWithinHalfPrecision) {
    core::RunReader reader(runs().full);
    const auto& probs = runs().run.probs;
    expectTiles(reader, 0, TileReduce::Mean, probs, halfBounds(probs), TileSource::FullMap);
    expectTiles(reader, 0, TileReduce::Max, probs, halfBounds(probs), TileSource::FullMap);
}

TEST(RunTiles, StoredPyramidEqualsLoopMeansAndMaxes) {
    core::RunReader reader(runs().full);
    for (int level : {1, 2})
        for (bool max : {false, true}) {
            const auto expected = runs().run.pool(runs().run.probs, level, max);
            expectTiles(reader, level, max ? TileReduce::Max : TileReduce::Mean, expected, halfBounds(expected),
                        TileSource::Pyramid);
        }
}

TEST(RunTiles, UnstoredLevelsPoolFromTheFinestStoredLevel) {
    // Levels 3..6 pool stored level 2: each level-2 cell carries its half rounding, so the weighted mean (the max)
    // is within the same relative 2^-11 + 2^-25, plus the float32 result.
    core::RunReader reader(runs().full);
    for (int level : {3, 4, 5, 6})
        for (bool max : {false, true}) {
            const auto expected = runs().run.pool(runs().run.probs, level, max);
            auto tolerance = halfBounds(expected);
            for (size_t i = 0; i < tolerance.size(); ++i)
                tolerance[i] += expected[i] * kFloatRel;
            expectTiles(reader, level, max ? TileReduce::Max : TileReduce::Mean, expected, tolerance,
                        TileSource::Pyramid);
        }
}

TEST(RunTiles, Level0RecomputedFromQkEqualsProbsWithinDerivedBound) {
    core::RunReader reader(runs().recompute);
    EXPECT_FALSE(reader.layout().fullProbs);
    expectTiles(reader, 0, TileReduce::Mean, runs().run.probs, recomputeBounds(runs().run), TileSource::Recomputed);
}

TEST(RunTiles, CoarseLevelsRecomputedFromQkEqualPooledLoops) {
    core::RunReader reader(runs().recompute);
    const auto bounds = recomputeBounds(runs().run);
    for (int level : {1, 2, 3, 6})
        for (bool max : {false, true}) {
            const auto expected = runs().run.pool(runs().run.probs, level, max);
            expectTiles(reader, level, max ? TileReduce::Max : TileReduce::Mean, expected,
                        pooledBounds(bounds, expected, level, max), TileSource::Recomputed);
        }
}

TEST(RunTiles, CoarseLevelsPooledFromFullMaps) {
    core::RunReader reader(runs().fullOnly);
    const auto bounds = halfBounds(runs().run.probs);
    for (int level : {1, 3})
        for (bool max : {false, true}) {
            const auto expected = runs().run.pool(runs().run.probs, level, max);
            expectTiles(reader, level, max ? TileReduce::Max : TileReduce::Mean, expected,
                        pooledBounds(bounds, expected, level, max), TileSource::FullMap);
        }
}

TEST(RunTiles, PyramidOnlyRunServesOnlyLevelsItCanBuild) {
    core::RunReader reader(runs().pyramidOnly);
    EXPECT_THROW(reader.tile(0, 0, 0, 0, 0, 16), core::UnsupportedError);
    EXPECT_THROW(reader.tile(0, 0, 1, 0, 0, 16), core::UnsupportedError);
    EXPECT_EQ(reader.tile(0, 0, 2, 0, 0, 16).source, TileSource::Pyramid);
    EXPECT_EQ(reader.tile(0, 0, 3, 0, 0, 16).source, TileSource::Pyramid);
}

TEST(RunTiles, EdgeTilesAreClipped) {
    core::RunReader reader(runs().full);
    const core::Tile corner = reader.tile(1, 3, 0, 32, 30, 16); // T = 37: 5 rows, 7 columns remain
    EXPECT_EQ(corner.rows, 5);
    EXPECT_EQ(corner.cols, 7);
    EXPECT_EQ(corner.values.size(), 35u);
    EXPECT_EQ(corner.values[0 * 7 + 3], 0.0f);               // (32, 33): above the diagonal
    EXPECT_GT(corner.values[4 * 7 + 6], 0.0f);               // (36, 36): the diagonal
    const core::Tile coarse = reader.tile(0, 0, 2, 8, 0, 4); // level 2 has ceil(37/4) = 10 cells a side
    EXPECT_EQ(coarse.rows, 2);
    EXPECT_EQ(coarse.cols, 4);
    const core::Tile past = reader.tile(0, 0, 0, 37, 0, 16);
    EXPECT_EQ(past.rows, 0);
    EXPECT_TRUE(past.values.empty());
}

TEST(RunTiles, BadTileArgumentsThrowNamingTheFile) {
    core::RunReader reader(runs().full);
    for (auto call : {+[](core::RunReader& r) { r.tile(2, 0, 0, 0, 0, 16); },
                      +[](core::RunReader& r) { r.tile(0, 4, 0, 0, 0, 16); },
                      +[](core::RunReader& r) { r.tile(0, 0, -1, 0, 0, 16); },
                      +[](core::RunReader& r) { r.tile(0, 0, 0, -1, 0, 16); },
                      +[](core::RunReader& r) { r.tile(0, 0, 0, 0, 0, 0); }}) {
        try {
            call(reader);
            ADD_FAILURE() << "no error";
        } catch (const core::ArgumentError& e) {
            EXPECT_NE(std::string(e.what()).find(runs().full.string()), std::string::npos) << e.what();
        }
    }
}

TEST(RunTiles, CacheStaysUnderItsBoundAndHitsOnRepeat) {
    // Room for about three 16 x 16 tiles (1 KiB of values each plus bookkeeping).
    const size_t bound = 4000;
    core::RunReader reader(runs().full, bound);
    const core::Tile first = reader.tile(0, 1, 0, 16, 0, 16);
    EXPECT_EQ(reader.cacheMisses(), 1u);
    const core::Tile again = reader.tile(0, 1, 0, 16, 0, 16);
    EXPECT_EQ(reader.cacheHits(), 1u);
    EXPECT_EQ(again.values, first.values);
    for (int64_t h = 0; h < 4; ++h)
        for (int64_t r0 : {0, 16, 32}) {
            reader.tile(1, h, 0, r0, 0, 16);
            EXPECT_LE(reader.cacheBytesUsed(), bound);
            EXPECT_GT(reader.cacheBytesUsed(), 0u);
        }
    const uint64_t hits = reader.cacheHits();
    reader.tile(1, 3, 0, 32, 0, 16); // the most recent one is still there
    EXPECT_EQ(reader.cacheHits(), hits + 1);
    reader.tile(0, 1, 0, 16, 0, 16); // the first one was evicted long ago
    EXPECT_EQ(reader.cacheHits(), hits + 1);
    // Mean and max are different tiles above level 0.
    const auto mean = reader.tile(0, 0, 1, 0, 0, 8, TileReduce::Mean);
    const auto max = reader.tile(0, 0, 1, 0, 0, 8, TileReduce::Max);
    EXPECT_NE(mean.values, max.values);
}

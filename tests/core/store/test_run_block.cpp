// RunReader::block: one query's row, one key's column and any rectangle of level-0 probabilities, from full maps and
// recomputed from Q/K/LSE, equal to the matching cells of level-0 tiles (the same code path) and to the loop answer.
#include "errors.hpp"
#include "known_run.hpp"
#include "store/run_reader.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>

#include <cmath>

using namespace attnscope;
using attnscope::test::KnownRun;

namespace {

struct Runs {
    KnownRun run;
    std::filesystem::path full, recompute, pyramidOnly;
    Runs() {
        const auto dir = test::scratchDir("block");
        full = dir / "full.attn.h5";
        recompute = dir / "recompute.attn.h5";
        pyramidOnly = dir / "pyramid_only.attn.h5";
        run.write(full, run.layout(true, {1}));
        run.write(recompute, run.layout(false, {}));
        run.write(pyramidOnly, run.layout(false, {2}, false));
    }
};

const Runs& runs() {
    static const Runs r;
    return r;
}

// The whole level-0 map of one head, from one tile covering it.
std::vector<float> wholeMap(core::RunReader& reader, int64_t l, int64_t h, int64_t T) {
    return reader.tile(l, h, 0, 0, 0, T).values;
}

// Every row and every column of every head equals the tile's cells bit for bit (test_run_tiles bounds those against
// the loop answer); rows read from full maps also equal the loop answer within float16 rounding (2^-11 relative,
// 2^-25 absolute, doubled for the float32 conversion).
void checkRowsAndColumns(const std::filesystem::path& path, bool stored) {
    const KnownRun& run = runs().run;
    core::RunReader reader(path);
    const int64_t T = run.T;
    for (int64_t l = 0; l < run.L; ++l)
        for (int64_t h = 0; h < run.H; ++h) {
            const std::vector<float> map = wholeMap(reader, l, h, T);
            for (int64_t i = 0; i < T; ++i) {
                const std::vector<float> row = reader.block(l, h, i, 0, 1, T);
                ASSERT_EQ(row.size(), size_t(T));
                for (int64_t j = 0; j < T; ++j) {
                    EXPECT_EQ(row[size_t(j)], map[size_t(i * T + j)]) << "row " << i << " key " << j;
                    if (stored) EXPECT_NEAR(row[size_t(j)], run.p(l, h, i, j), run.p(l, h, i, j) * 0x1p-10 + 0x1p-24);
                }
            }
            for (int64_t j = 0; j < T; ++j) {
                const std::vector<float> column = reader.block(l, h, 0, j, T, 1);
                ASSERT_EQ(column.size(), size_t(T));
                for (int64_t i = 0; i < T; ++i)
                    EXPECT_EQ(column[size_t(i)], map[size_t(i * T + j)]) << "query " << i << " column " << j;
            }
        }
}

TEST(RunBlock, RowsAndColumnsFromFullMaps) {
    checkRowsAndColumns(runs().full, true);
}

TEST(RunBlock, RowsAndColumnsRecomputedFromQk) {
    checkRowsAndColumns(runs().recompute, false);
}

TEST(RunBlock, RectanglesMatchTheTile) {
    const int64_t T = runs().run.T;
    for (const auto& path : {runs().full, runs().recompute}) {
        core::RunReader reader(path);
        const std::vector<float> map = wholeMap(reader, 1, 3, T);
        // Below, across and above the diagonal; partial at the edges.
        for (const auto& [r0, c0, nr, nc] : std::vector<std::array<int64_t, 4>>{
                 {0, 0, 5, 5}, {10, 3, 7, 20}, {2, 20, 5, 17}, {30, 0, 7, 37}, {36, 36, 1, 1}}) {
            const std::vector<float> b = reader.block(1, 3, r0, c0, nr, nc);
            ASSERT_EQ(b.size(), size_t(nr * nc));
            for (int64_t i = 0; i < nr; ++i)
                for (int64_t j = 0; j < nc; ++j)
                    EXPECT_EQ(b[size_t(i * nc + j)], map[size_t((r0 + i) * T + c0 + j)])
                        << path << " (" << r0 + i << ", " << c0 + j << ")";
        }
    }
}

TEST(RunBlock, ColumnOfTheLastKeyHoldsOnlyTheLastQuery) {
    const KnownRun& run = runs().run;
    core::RunReader reader(runs().recompute);
    const std::vector<float> column = reader.block(0, 0, 0, run.T - 1, run.T, 1);
    for (int64_t i = 0; i + 1 < run.T; ++i)
        EXPECT_EQ(column[size_t(i)], 0.0f);
    EXPECT_NEAR(column.back(), run.p(0, 0, run.T - 1, run.T - 1), 1e-3);
}

TEST(RunBlock, RectangleOutsideTheRunIsAnArgumentError) {
    core::RunReader reader(runs().full);
    const int64_t T = runs().run.T;
    EXPECT_THROW(reader.block(2, 0, 0, 0, 1, 1), core::ArgumentError);
    EXPECT_THROW(reader.block(0, 4, 0, 0, 1, 1), core::ArgumentError);
    EXPECT_THROW(reader.block(0, 0, -1, 0, 1, 1), core::ArgumentError);
    EXPECT_THROW(reader.block(0, 0, 0, 0, 0, 1), core::ArgumentError);
    EXPECT_THROW(reader.block(0, 0, T - 1, 0, 2, 1), core::ArgumentError);
    EXPECT_THROW(reader.block(0, 0, 0, 1, 1, T), core::ArgumentError);
    try {
        reader.block(0, 0, 0, 0, 1, T + 1);
        FAIL() << "no error";
    } catch (const core::ArgumentError& e) {
        EXPECT_NE(std::string(e.what()).find(runs().full.string()), std::string::npos) << e.what();
    }
}

TEST(RunBlock, PyramidOnlyRunCannotServeBlocks) {
    core::RunReader reader(runs().pyramidOnly);
    EXPECT_THROW(reader.block(0, 0, 3, 0, 1, 4), core::UnsupportedError);
}

} // namespace

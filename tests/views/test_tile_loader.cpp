// TileLoader on a real run file (the organism's capture of the demo story, 258 tokens): tiles and row maxima equal
// what a RunReader reads; stale requests are dropped; failures become one sentence naming the file and are not
// retried; clients share tiles; destroying a busy loader is prompt and clean.
#include "tile_loader.hpp"

#include "support/cli_runner.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace attnscope::views {
namespace {

using Clock = std::chrono::steady_clock;

class TileLoaderTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        const auto dir = test::scratchDir("tile_loader");
        s_run = dir / "demo.attn.h5";
        const auto r = test::runCli({"capture", (test::resourcesDir() / "models/organism").string(), "--prompt-file",
                                     (test::resourcesDir() / "prompts/demo_story.txt").string(), "--out",
                                     s_run.string()});
        ASSERT_EQ(r.code, 0) << r.err;
    }
    // Polls until the client has nothing pending (or 20 s pass: a hung loader fails instead of blocking ctest).
    static std::vector<TileResult> drain(TileLoader& loader, int client = 0) {
        std::vector<TileResult> all;
        const auto deadline = Clock::now() + std::chrono::seconds(20);
        while (Clock::now() < deadline) {
            auto got = loader.takeFinished(client);
            all.insert(all.end(), std::make_move_iterator(got.begin()), std::make_move_iterator(got.end()));
            if (loader.pending(client) == 0) {
                got = loader.takeFinished(client);
                all.insert(all.end(), std::make_move_iterator(got.begin()), std::make_move_iterator(got.end()));
                return all;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        ADD_FAILURE() << "the loader did not finish within 20 s";
        return all;
    }
    static inline std::filesystem::path s_run;
};

TEST_F(TileLoaderTest, TilesEqualTheReadersTiles) {
    core::RunReader reader(s_run);
    const int64_t T = reader.layout().tokens;
    ASSERT_GT(T, 256); // two tiles of 256 per side at level 0
    std::vector<TileRequest> wanted;
    for (int level : {0, 1, 3})
        for (auto reduce : {core::TileReduce::Mean, core::TileReduce::Max})
            for (int64_t r0 = 0; r0 < core::pyramidSize(T, level); r0 += 64)
                for (int64_t c0 = 0; c0 <= r0; c0 += 64)
                    wanted.push_back({1, 3, level, r0, c0, 64, reduce, TileKind::Cells});
    TileLoader loader(s_run);
    loader.request(wanted);
    const auto results = drain(loader);
    ASSERT_EQ(results.size(), wanted.size());
    for (const auto& res : results) {
        ASSERT_TRUE(res.error.empty()) << res.error;
        const auto& q = res.request;
        const core::Tile ref = reader.tile(q.layer, q.head, q.level, q.row0, q.col0, q.size, q.reduce);
        EXPECT_EQ(res.tile.rows, ref.rows);
        EXPECT_EQ(res.tile.cols, ref.cols);
        EXPECT_EQ(res.tile.values, ref.values) << "level " << q.level << " at " << q.row0 << "," << q.col0;
    }
}

TEST_F(TileLoaderTest, RowMaximaCoverAllKeysOfTheLevel) {
    core::RunReader reader(s_run);
    const int64_t T = reader.layout().tokens;
    TileLoader loader(s_run);
    std::vector<TileRequest> wanted;
    for (int level : {0, 2})
        for (int64_t r0 = 0; r0 < core::pyramidSize(T, level); r0 += 32)
            wanted.push_back({2, 5, level, r0, 0, 32, core::TileReduce::Mean, TileKind::RowMax});
    loader.request(wanted);
    const auto results = drain(loader);
    ASSERT_EQ(results.size(), wanted.size());
    for (const auto& res : results) {
        const int level = res.request.level;
        const int64_t n = core::pyramidSize(T, level);
        // The whole level at once, as the reference.
        const core::Tile all = reader.tile(2, 5, level, 0, 0, n);
        ASSERT_EQ(int64_t(res.rowMax.size()), std::min<int64_t>(32, n - res.request.row0));
        for (size_t i = 0; i < res.rowMax.size(); ++i) {
            const float* row = all.values.data() + (res.request.row0 + int64_t(i)) * n;
            EXPECT_EQ(res.rowMax[i], *std::max_element(row, row + n)) << "level " << level << " row " << i;
        }
    }
}

TEST_F(TileLoaderTest, StaleRequestsAreDropped) {
    TileLoader loader(s_run);
    std::vector<TileRequest> many, few;
    for (int64_t r = 0; r < 258; ++r)
        for (int64_t c = 0; c <= r; c += 8)
            many.push_back({0, 0, 0, r, c, 1});
    for (int64_t i = 0; i < 4; ++i)
        few.push_back({3, 7, 1, i * 32, 0, 32});
    loader.request(many);
    loader.request(few); // the next frame: the view moved
    const auto results = drain(loader);
    size_t ofFew = 0, ofMany = 0;
    for (const auto& r : results)
        (r.request.layer == 3 ? ofFew : ofMany) += 1;
    EXPECT_EQ(ofFew, few.size());
    // At most the reads that had started before the replacement (one, or a few on a slow machine).
    EXPECT_LT(ofMany, many.size() / 10) << "of " << many.size();
}

TEST_F(TileLoaderTest, FailuresAreOneSentenceAndNotRetried) {
    TileLoader loader(s_run);
    const TileRequest bad{99, 0, 0, 0, 0, 64};
    loader.request({bad});
    auto results = drain(loader);
    ASSERT_EQ(results.size(), 1u);
    EXPECT_NE(results[0].error.find(s_run.string()), std::string::npos) << results[0].error;
    EXPECT_EQ(results[0].error.back(), '.');
    loader.request({bad});
    EXPECT_EQ(loader.pending(), 0u);
    EXPECT_TRUE(drain(loader).empty());

    const auto missing = test::scratchDir("tile_loader_missing") / "nothing.attn.h5";
    TileLoader broken(missing);
    broken.request({{0, 0, 0, 0, 0, 64}});
    results = drain(broken);
    ASSERT_EQ(results.size(), 1u);
    EXPECT_NE(results[0].error.find(missing.string()), std::string::npos) << results[0].error;
    EXPECT_EQ(broken.openError(), results[0].error);
}

TEST_F(TileLoaderTest, ClientsAreServedApartAndShareTiles) {
    TileLoader loader(s_run);
    const int a = loader.addClient(), b = loader.addClient();
    ASSERT_NE(a, b);
    const TileRequest shared{1, 1, 0, 0, 0, 256}, onlyB{1, 2, 0, 0, 0, 256};
    loader.request({shared}, a);
    loader.request({shared, onlyB}, b);
    const auto ra = drain(loader, a), rb = drain(loader, b);
    ASSERT_EQ(ra.size(), 1u);
    EXPECT_EQ(ra[0].request, shared);
    ASSERT_EQ(rb.size(), 2u);
    EXPECT_EQ(rb[0].tile.values, ra[0].tile.values);
}

TEST_F(TileLoaderTest, DestroyingABusyLoaderIsPrompt) {
    // Row maxima at level 0 in bands of one row: about a thousand reads queued; destruction must not wait for them.
    std::vector<TileRequest> wanted;
    for (int64_t r = 0; r < 258; ++r)
        for (int64_t h = 0; h < 4; ++h)
            wanted.push_back({3, h, 0, r, 0, 1, core::TileReduce::Mean, TileKind::RowMax});
    const auto start = Clock::now();
    {
        TileLoader loader(s_run);
        loader.request(wanted);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        EXPECT_GT(loader.pending(), 0u);
    }
    EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 2.0);
}

} // namespace
} // namespace attnscope::views

// The tile LRU: byte bound, least-recently-used eviction, distinct keys per reduction, oversize tiles not kept.
#include "store/run_tile_cache.hpp"

#include <gtest/gtest.h>

using namespace attnscope::core;

namespace {

Tile makeTile(int64_t side, float fill) {
    Tile t;
    t.rows = t.cols = side;
    t.values.assign(size_t(side * side), fill);
    return t;
}

TileKey key(int64_t row0, TileReduce reduce = TileReduce::Mean) {
    return {0, 0, 1, row0, 0, 16, reduce};
}

} // namespace

TEST(RunTileCache, EvictsLeastRecentlyUsedWithinTheByteBound) {
    const size_t one = RunTileCache::tileBytes(makeTile(16, 0));
    RunTileCache cache(3 * one);
    for (int64_t r = 0; r < 3; ++r)
        cache.insert(key(r), makeTile(16, float(r)));
    EXPECT_EQ(cache.entries(), 3u);
    EXPECT_EQ(cache.bytesUsed(), 3 * one);
    ASSERT_TRUE(cache.find(key(0))); // 0 becomes the most recent; 1 is now the oldest
    cache.insert(key(3), makeTile(16, 3));
    EXPECT_LE(cache.bytesUsed(), cache.maxBytes());
    EXPECT_FALSE(cache.find(key(1)));
    EXPECT_EQ(cache.find(key(0))->values[0], 0.0f);
    EXPECT_EQ(cache.find(key(3))->values[0], 3.0f);
    EXPECT_EQ(cache.hits(), 3u);
    EXPECT_EQ(cache.misses(), 1u);
}

TEST(RunTileCache, ReduceIsPartOfTheKeyAndReinsertReplaces) {
    RunTileCache cache(1 << 20);
    cache.insert(key(0, TileReduce::Mean), makeTile(8, 1));
    cache.insert(key(0, TileReduce::Max), makeTile(8, 2));
    EXPECT_EQ(cache.find(key(0, TileReduce::Mean))->values[0], 1.0f);
    EXPECT_EQ(cache.find(key(0, TileReduce::Max))->values[0], 2.0f);
    const size_t before = cache.bytesUsed();
    cache.insert(key(0, TileReduce::Max), makeTile(8, 5));
    EXPECT_EQ(cache.bytesUsed(), before);
    EXPECT_EQ(cache.find(key(0, TileReduce::Max))->values[0], 5.0f);
}

TEST(RunTileCache, TileLargerThanTheBoundIsNotKept) {
    RunTileCache cache(1000);
    cache.insert(key(0), makeTile(4, 1));
    cache.insert(key(1), makeTile(64, 1)); // 16 KiB of values
    EXPECT_FALSE(cache.find(key(1)));
    EXPECT_TRUE(cache.find(key(0))); // and it did not flush the others
    cache.clear();
    EXPECT_EQ(cache.bytesUsed(), 0u);
    EXPECT_FALSE(cache.find(key(0)));
}

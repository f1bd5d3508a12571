#pragma once
// LRU cache of attention tiles keyed by (layer, head, level, row0, col0, size, reduce), bounded in bytes.
// Thread: owned by one RunReader, so by one thread; no locking.
#include "store/run_reader.hpp"

#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <unordered_map>

namespace attnscope::core {

struct TileKey {
    int64_t layer = 0, head = 0;
    int level = 0;
    int64_t row0 = 0, col0 = 0, size = 0;
    TileReduce reduce = TileReduce::Mean;
    bool operator==(const TileKey&) const = default;
};

struct TileKeyHash {
    size_t operator()(const TileKey& key) const;
};

class RunTileCache {
public:
    explicit RunTileCache(size_t maxBytes) : m_maxBytes(maxBytes) {}

    // A copy of the cached tile (and it becomes the most recently used), or nothing.
    std::optional<Tile> find(const TileKey& key);
    // Keeps `tile`, evicting the least recently used tiles until the total fits; a tile larger than the whole
    // budget is not kept.
    void insert(const TileKey& key, Tile tile);
    void clear();

    size_t bytesUsed() const { return m_bytesUsed; }
    size_t maxBytes() const { return m_maxBytes; }
    uint64_t hits() const { return m_hits; }
    uint64_t misses() const { return m_misses; }
    size_t entries() const { return m_entries.size(); }

    // What one tile costs against the budget: its values plus the bookkeeping around them.
    static size_t tileBytes(const Tile& tile);

private:
    struct Entry {
        TileKey key;
        Tile tile;
        size_t bytes = 0;
    };
    using List = std::list<Entry>; // front = most recently used

    void evictUntil(size_t budget);

    size_t m_maxBytes = 0, m_bytesUsed = 0;
    uint64_t m_hits = 0, m_misses = 0;
    List m_entries;
    std::unordered_map<TileKey, List::iterator, TileKeyHash> m_index;
};

} // namespace attnscope::core

#include "store/run_tile_cache.hpp"

#include <functional>

namespace attnscope::core {

size_t TileKeyHash::operator()(const TileKey& key) const {
    // Boost's hash_combine: good enough for a few thousand keys.
    size_t seed = 0;
    auto mix = [&seed](int64_t v) {
        seed ^= std::hash<int64_t>{}(v) + 0x9e3779b97f4a7c15ull + (seed << 6) + (seed >> 2);
    };
    mix(key.layer), mix(key.head), mix(key.level), mix(key.row0), mix(key.col0), mix(key.size);
    mix(int64_t(key.reduce));
    return seed;
}

size_t RunTileCache::tileBytes(const Tile& tile) {
    // List node, hash node and the Tile itself: small, but it keeps many tiny edge tiles from overrunning the bound.
    return tile.values.capacity() * sizeof(float) + sizeof(Entry) + sizeof(TileKey) + 64;
}

std::optional<Tile> RunTileCache::find(const TileKey& key) {
    auto it = m_index.find(key);
    if (it == m_index.end()) {
        ++m_misses;
        return std::nullopt;
    }
    ++m_hits;
    m_entries.splice(m_entries.begin(), m_entries, it->second);
    return it->second->tile;
}

void RunTileCache::insert(const TileKey& key, Tile tile) {
    tile.values.shrink_to_fit();
    const size_t bytes = tileBytes(tile);
    if (auto it = m_index.find(key); it != m_index.end()) {
        m_bytesUsed -= it->second->bytes;
        m_entries.erase(it->second);
        m_index.erase(it);
    }
    if (bytes > m_maxBytes) return;
    evictUntil(m_maxBytes - bytes);
    m_entries.push_front(Entry{key, std::move(tile), bytes});
    m_index.emplace(key, m_entries.begin());
    m_bytesUsed += bytes;
}

void RunTileCache::clear() {
    m_index.clear();
    m_entries.clear();
    m_bytesUsed = 0;
}

void RunTileCache::evictUntil(size_t budget) {
    while (m_bytesUsed > budget && !m_entries.empty()) {
        m_bytesUsed -= m_entries.back().bytes;
        m_index.erase(m_entries.back().key);
        m_entries.pop_back();
    }
}

} // namespace attnscope::core

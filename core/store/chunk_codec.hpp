#pragma once
// The filter pipeline H5Io::createDataset gives a chunked dataset (shuffle + deflate when compressed, then
// Fletcher-32), applied outside HDF5: chunks can then be encoded on any thread, in parallel and with libdeflate
// (about 1.5x zlib's speed, the same zlib streams), and stored as they are with H5Dwrite_chunk. HDF5-free.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace attnscope::core {

struct ChunkFilters {
    size_t elementSize = 1;
    int deflateLevel = 0; // > 0: shuffle, then deflate at this level
    bool fletcher32 = true;
};

// The bytes HDF5 would store for one chunk of `bytes` bytes (a whole chunk, edges padded) through these filters.
// Thread-safe.
std::vector<uint8_t> encodeChunk(const uint8_t* data, size_t bytes, const ChunkFilters& filters);

// HDF5's Fletcher-32 of a chunk (16-bit big-endian words, sums folded every 360 words; a last odd byte is the high
// half of a word).
uint32_t hdf5Fletcher32(const uint8_t* data, size_t bytes);

} // namespace attnscope::core

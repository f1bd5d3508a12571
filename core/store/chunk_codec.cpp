#include "store/chunk_codec.hpp"

#include "errors.hpp"

#include <libdeflate.h>

#include <algorithm>
#include <memory>

namespace attnscope::core {
namespace {

struct CompressorFree {
    void operator()(libdeflate_compressor* c) const { libdeflate_free_compressor(c); }
};

// Allocating a compressor costs more than compressing a small chunk, so each thread keeps one per level.
libdeflate_compressor* compressor(int level) {
    thread_local std::unique_ptr<libdeflate_compressor, CompressorFree> cached[13];
    auto& c = cached[std::clamp(level, 1, 12)];
    if (!c) c.reset(libdeflate_alloc_compressor(std::clamp(level, 1, 12)));
    if (!c) throw std::bad_alloc();
    return c.get();
}

// HDF5's shuffle: byte j of element i goes to j * n + i, trailing bytes of a partial element stay at the end.
void shuffle(const uint8_t* in, size_t bytes, size_t elementSize, uint8_t* out) {
    const size_t n = bytes / elementSize;
    for (size_t j = 0; j < elementSize; ++j) {
        uint8_t* dst = out + j * n;
        const uint8_t* src = in + j;
        for (size_t i = 0; i < n; ++i)
            dst[i] = src[i * elementSize];
    }
    std::copy(in + n * elementSize, in + bytes, out + n * elementSize);
}

} // namespace

uint32_t hdf5Fletcher32(const uint8_t* data, size_t bytes) {
    uint32_t sum1 = 0, sum2 = 0;
    size_t words = bytes / 2;
    // 360 words keep both sums within 32 bits before they are folded.
    while (words > 0) {
        const size_t run = std::min<size_t>(words, 360);
        words -= run;
        for (size_t i = 0; i < run; ++i, data += 2) {
            sum1 += (uint32_t(data[0]) << 8) | uint32_t(data[1]);
            sum2 += sum1;
        }
        sum1 = (sum1 & 0xffff) + (sum1 >> 16);
        sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    }
    if (bytes % 2) {
        sum1 += uint32_t(*data) << 8;
        sum2 += sum1;
        sum1 = (sum1 & 0xffff) + (sum1 >> 16);
        sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    }
    sum1 = (sum1 & 0xffff) + (sum1 >> 16);
    sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    return (sum2 << 16) | sum1;
}

std::vector<uint8_t> encodeChunk(const uint8_t* data, size_t bytes, const ChunkFilters& f) {
    std::vector<uint8_t> out;
    if (f.deflateLevel > 0) {
        // The shuffle filter leaves one-byte elements alone.
        std::vector<uint8_t> shuffled;
        const uint8_t* source = data;
        if (f.elementSize > 1) {
            shuffled.resize(bytes);
            shuffle(data, bytes, f.elementSize, shuffled.data());
            source = shuffled.data();
        }
        libdeflate_compressor* c = compressor(f.deflateLevel);
        out.resize(libdeflate_zlib_compress_bound(c, bytes) + 4);
        const size_t written = libdeflate_zlib_compress(c, source, bytes, out.data(), out.size() - 4);
        if (written == 0) throw Error("libdeflate could not compress a chunk within its own bound.");
        out.resize(written);
    } else {
        out.assign(data, data + bytes);
    }
    if (f.fletcher32) {
        // Stored little-endian after the data, as HDF5's filter writes it.
        const uint32_t sum = hdf5Fletcher32(out.data(), out.size());
        for (int i = 0; i < 4; ++i)
            out.push_back(uint8_t(sum >> (8 * i)));
    }
    return out;
}

} // namespace attnscope::core

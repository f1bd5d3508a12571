// Chunks encoded outside HDF5 (store/chunk_codec: shuffle, libdeflate, Fletcher-32) are the chunks HDF5 itself would
// store: HDF5 reads them back through its own pipeline (zlib inflate, checksum check), its Fletcher-32 is ours, and a
// run's layer encoded on several threads is the same bytes as on one.
#include "errors.hpp"
#include "known_run.hpp"
#include "store/chunk_codec.hpp"
#include "store/h5_io.hpp"
#include "store/run_writer.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>

#include <random>
#include <thread>
#include <vector>

using namespace attnscope;
using core::ChunkFilters;
using core::H5Dims;
using core::H5Io;

namespace {

// Noise, zero runs and a ramp: incompressible, trivially compressible and in between.
std::vector<uint8_t> mixedBytes(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i)
        v[i] = i % 3000 < 1000 ? uint8_t(rng()) : i % 3000 < 2000 ? 0 : uint8_t(i / 64);
    return v;
}

struct Case {
    hid_t type;
    size_t elementSize;
    int deflate;
};

} // namespace

// Each element size and pipeline H5Io::createDataset makes, with a chunk that does not divide the extent: the chunks
// we encode and store with H5Dwrite_chunk read back exactly through HDF5's own filters.
TEST(ChunkCodec, HdfReadsChunksEncodedOutsideIt) {
    const auto dir = test::scratchDir("chunk-codec");
    for (const Case& c : {Case{H5T_STD_U8LE, 1, 1}, Case{H5T_STD_U16LE, 2, 1}, Case{H5T_STD_U32LE, 4, 1},
                          Case{H5T_STD_U64LE, 8, 1}, Case{H5T_STD_U16LE, 2, 0}, Case{H5T_STD_U32LE, 4, 9}}) {
        const auto path = dir / ("e" + std::to_string(c.elementSize) + "-d" + std::to_string(c.deflate) + ".h5");
        const hsize_t rows = 100, cols = 300, chunkRows = 64, chunkCols = 128;
        const std::vector<uint8_t> data = mixedBytes(rows * cols * c.elementSize, uint32_t(c.elementSize));
        core::h5Silence();
        {
            core::H5File file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
            H5Io io(path);
            auto ds = io.createDataset(file.get(), "/x", c.type, {rows, cols}, {chunkRows, chunkCols}, c.deflate);
            const ChunkFilters filters{c.elementSize, c.deflate, true};
            for (hsize_t r0 = 0; r0 < rows; r0 += chunkRows)
                for (hsize_t c0 = 0; c0 < cols; c0 += chunkCols) {
                    std::vector<uint8_t> chunk(chunkRows * chunkCols * c.elementSize, 0);
                    for (hsize_t r = r0; r < std::min(rows, r0 + chunkRows); ++r)
                        for (hsize_t k = c0; k < std::min(cols, c0 + chunkCols); ++k)
                            std::copy_n(&data[(r * cols + k) * c.elementSize], c.elementSize,
                                        &chunk[((r - r0) * chunkCols + (k - c0)) * c.elementSize]);
                    const auto bytes = core::encodeChunk(chunk.data(), chunk.size(), filters);
                    const hsize_t offset[2] = {r0, c0};
                    ASSERT_GE(H5Dwrite_chunk(ds.get(), H5P_DEFAULT, 0, offset, bytes.size(), bytes.data()), 0);
                }
        }
        core::H5File file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
        H5Io io(path);
        std::vector<uint8_t> back(data.size());
        io.readAll(io.openDataset(file.get(), "/x").get(), c.type, back.data(), "/x");
        EXPECT_EQ(back, data) << "element size " << c.elementSize << ", deflate " << c.deflate;
    }
}

// HDF5 computes the checksum of a chunk it writes itself; ours of the same bytes must be equal (odd lengths too).
TEST(ChunkCodec, Fletcher32IsHdf5s) {
    const auto path = test::scratchDir("chunk-fletcher") / "f.h5";
    core::h5Silence();
    core::H5File file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    H5Io io(path);
    for (hsize_t n : {1, 2, 7, 720, 721, 5000}) {
        const std::string name = "/x" + std::to_string(n);
        auto ds = io.createDataset(file.get(), name, H5T_STD_U8LE, {n}, {n}, 0);
        const auto data = mixedBytes(n, 3);
        io.writeAll(ds.get(), H5T_NATIVE_UINT8, data.data(), name);
        ASSERT_GE(H5Dflush(ds.get()), 0);
        const hsize_t origin[1] = {0};
        hsize_t stored = 0;
        ASSERT_GE(H5Dget_chunk_storage_size(ds.get(), origin, &stored), 0);
        ASSERT_EQ(stored, n + 4);
        std::vector<uint8_t> raw(stored);
        uint32_t mask = 0;
        ASSERT_GE(H5Dread_chunk(ds.get(), H5P_DEFAULT, origin, &mask, raw.data()), 0);
        const uint32_t theirs =
            uint32_t(raw[n]) | uint32_t(raw[n + 1]) << 8 | uint32_t(raw[n + 2]) << 16 | uint32_t(raw[n + 3]) << 24;
        EXPECT_EQ(core::hdf5Fletcher32(data.data(), n), theirs) << n << " bytes";
    }
}

// The probe encodes layers on the compute threads: the chunks must not depend on how the work was split.
TEST(ChunkCodec, ParallelEncodingIsTheSerialBytes) {
    const auto dir = test::scratchDir("chunk-parallel");
    const test::KnownRun run;
    const std::vector<int> levels = {1, 2, 3};
    core::RunWriter writer(dir / "run.attn.h5", run.model, run.tokens, run.layout(false, levels));
    const auto threads = [](int64_t count, const std::function<void(int64_t)>& job) {
        std::vector<std::thread> pool;
        for (int t = 0; t < 3; ++t)
            pool.emplace_back([&, t] {
                for (int64_t j = count - 1 - t; j >= 0; j -= 3) // backwards, interleaved
                    job(j);
            });
        for (auto& p : pool)
            p.join();
    };
    for (int64_t l = 0; l < run.L; ++l) {
        const auto serial = writer.encodeLayer(l, run.capture(l, levels));
        const auto parallel = writer.encodeLayer(l, run.capture(l, levels), threads);
        ASSERT_EQ(serial.datasets.size(), parallel.datasets.size());
        for (size_t d = 0; d < serial.datasets.size(); ++d) {
            ASSERT_EQ(serial.datasets[d].path, parallel.datasets[d].path);
            ASSERT_EQ(serial.datasets[d].chunks.size(), parallel.datasets[d].chunks.size());
            for (size_t c = 0; c < serial.datasets[d].chunks.size(); ++c) {
                EXPECT_EQ(serial.datasets[d].chunks[c].offset, parallel.datasets[d].chunks[c].offset);
                EXPECT_EQ(serial.datasets[d].chunks[c].bytes, parallel.datasets[d].chunks[c].bytes);
            }
        }
        EXPECT_GE(serial.datasets.size(), 6u + 8u); // pyramids of three levels, stats, Q/K
    }
}

// Full-map rows go to the chunk path only as whole chunk rows of a run that keeps full maps.
TEST(ChunkCodec, ProbRowsMustBeWholeChunkRows) {
    const auto dir = test::scratchDir("chunk-rows");
    const test::KnownRun run; // T = 37: one chunk row of 37
    core::RunWriter full(dir / "full.attn.h5", run.model, run.tokens, run.layout(true, {1}));
    ASSERT_EQ(full.probChunkRows(), 37);
    const std::vector<uint16_t> rows(size_t(run.H * run.T * run.T), 0);
    EXPECT_NO_THROW(full.encodeProbRows(0, 0, 37, rows.data()));
    EXPECT_THROW(full.encodeProbRows(0, 0, 36, rows.data()), core::ArgumentError); // not the whole chunk row
    EXPECT_THROW(full.encodeProbRows(0, 1, 36, rows.data()), core::ArgumentError); // not at a chunk row's start
    EXPECT_THROW(full.encodeProbRows(2, 0, 37, rows.data()), core::ArgumentError); // no layer 2
    core::RunWriter never(dir / "never.attn.h5", run.model, run.tokens, run.layout(false, {1}));
    EXPECT_THROW(never.encodeProbRows(0, 0, 37, rows.data()), core::ArgumentError); // no full maps
}

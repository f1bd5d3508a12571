#pragma once
// State of one RunWriter (private to core/store): the open temporary file, its datasets, and what has been written.
#include "errors.hpp"
#include "store/chunk_codec.hpp"
#include "store/h5_io.hpp"
#include "store/run_schema.hpp"
#include "store/run_writer.hpp"

#include <algorithm>
#include <array>
#include <map>

namespace attnscope::core {

struct RunWriter::Impl {
    std::filesystem::path finalPath, tempPath;
    H5Io io;
    RunLayout layout;
    int64_t L = 0, H = 0, Hkv = 0, d = 0, T = 0;
    H5Type half = h5HalfType();
    // The file is declared first so that it is destroyed last, after the objects inside it.
    H5File file;
    H5Dataset residualNorm, loss, topkIds, topkProbs;
    // Every [L, ...] dataset written a layer at a time (full maps, stats, Q/K, pyramids), by path, with the shape,
    // chunk and filters the encoders need without touching HDF5. Chunks hold one layer and one head.
    struct LayerDataset {
        H5Dataset dataset;
        H5Dims dims, chunk;
        ChunkFilters filters;
    };
    std::map<std::string, LayerDataset> layerSets;
    std::vector<uint8_t> layerDone, rowDone; // rowDone: [L][T] rows of full maps written
    bool committed = false, registered = false;

    explicit Impl(std::filesystem::path final)
        : finalPath(std::move(final)), tempPath(runTemporaryPath(finalPath)), io(tempPath) {}
    ~Impl(); // releases the temporary name

    [[noreturn]] void badArgument(const std::string& problem) const {
        throw ArgumentError("Cannot write run file '" + finalPath.string() + "': " + problem + ".");
    }

    void closeAll() {
        residualNorm.reset(), loss.reset(), topkIds.reset(), topkProbs.reset();
        layerSets.clear();
        file.reset();
    }

    void create(const RunModelInfo& model, const RunTokens& tokens);
    void writeTokens(const RunTokens& tokens);
    void createDatasets();
    void createLayerDataset(const std::string& path, hid_t type, const H5Dims& dims, const H5Dims& chunk, int deflate,
                            hid_t accessList = H5P_DEFAULT);
    H5Plist mapAccessList() const;
};

inline hsize_t clampChunk(int64_t extent, int64_t limit) {
    return hsize_t(std::max<int64_t>(1, std::min(extent, limit)));
}

} // namespace attnscope::core

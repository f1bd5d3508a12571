#pragma once
// Writes one run file. Everything goes to "<path>.tmp-<pid>"; commit() closes and renames it into place, so an
// interrupted capture never leaves a file under the final name. Thread: one writer thread; encodeLayer() and
// encodeProbRows() may run on another at the same time.
#include "store/run_paths.hpp"
#include "store/run_probe.hpp"
#include "store/run_types.hpp"

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace attnscope::core {

// Chunks of a run's datasets as stored (filtered, compressed, checksummed), ready to write as they are: one layer's
// per-layer datasets (encodeLayer) or a band of full-map rows (encodeProbRows).
struct EncodedChunks {
    struct Chunk {
        std::array<uint64_t, 4> offset{}; // the chunk's first element (rank-3 datasets use the first three)
        std::vector<uint8_t> bytes;
    };
    struct Dataset {
        std::string path;
        std::vector<Chunk> chunks;
    };
    int64_t layer = -1;
    int64_t rowBegin = 0, rows = 0; // the full-map rows these chunks complete; 0 rows: a layer's datasets
    std::vector<Dataset> datasets;
};

// Runs job(i) for every i in [0, count), on any threads, returning when all are done.
using ParallelJobs = std::function<void(int64_t count, const std::function<void(int64_t)>& job)>;

class RunWriter {
public:
    // Creates the temporary file with root attributes, /model and /tokens, and the datasets the layout asks for.
    RunWriter(const std::filesystem::path& finalPath, const RunModelInfo& model, const RunTokens& tokens,
              const RunLayout& layout);
    // Removes the temporary file unless commit() succeeded.
    ~RunWriter();
    RunWriter(const RunWriter&) = delete;
    RunWriter& operator=(const RunWriter&) = delete;

    // Rows [rowBegin, rowBegin + rows) of one layer's full maps: float16 bits [H][rows][T], zeros above the diagonal.
    void writeProbRows(int64_t layer, int64_t rowBegin, int64_t rows, const uint16_t* probs);
    void writeLayer(int64_t layer, const LayerCapture& capture);
    // The same in two steps: encodeLayer() checks the capture and compresses its chunks (the costly part; it may run
    // on any thread while this writer is used elsewhere, and spreads the chunks over `parallel` when given), then
    // write() stores them. Throws ArgumentError for a capture that does not fit the layout.
    EncodedChunks encodeLayer(int64_t layer, const LayerCapture& capture, const ParallelJobs& parallel = {}) const;
    // writeProbRows() in two steps, for whole chunk rows: rowBegin a multiple of probChunkRows(), rows that many (or
    // up to T). Chunks wholly above the diagonal are left out: they read as zeros, the dataset's fill value.
    EncodedChunks encodeProbRows(int64_t layer, int64_t rowBegin, int64_t rows, const uint16_t* probs,
                                 const ParallelJobs& parallel = {}) const;
    int64_t probChunkRows() const;
    void write(const EncodedChunks& encoded);
    void writeResidualNorms(const std::vector<float>& norms); // [L+1][T]
    void writeResidualExtremes(const ResidualExtremes& extremes);
    void writeOutput(const RunOutput& output);
    // The probe the tokens were built from (/probe). Throws ArgumentError when its length is not the run's T.
    void writeProbe(const RunProbe& probe);
    // Flushes, closes and renames to the final path.
    void commit();

    const std::filesystem::path& temporaryPath() const;

    struct Impl;

private:
    std::unique_ptr<Impl> m_impl;
};

} // namespace attnscope::core

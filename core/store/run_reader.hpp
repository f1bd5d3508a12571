#pragma once
// Reads a run file: identity, tokens, stats, and tiles of any head's attention at any pyramid level, served from
// full maps, the stored pyramid, or recomputed exactly from Q/K/LSE, through an LRU cache bounded in bytes.
// Thread: one reader per thread (HDF5 is not thread-safe); tiles are returned by value.
#include "store/run_analysis.hpp"
#include "store/run_probe.hpp"
#include "store/run_types.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace attnscope::core {

enum class TileSource { FullMap, Pyramid, Recomputed };
enum class TileReduce { Mean, Max };

struct Tile {
    int level = 0;
    int64_t row0 = 0, col0 = 0; // top-left cell at this level
    int64_t rows = 0, cols = 0; // clipped to the level's size
    std::vector<float> values;  // [rows][cols]; cells above the causal diagonal are 0
    // Where the values came from: level-0 data read from the full maps, recomputed from Q/K/LSE, or a stored pyramid
    // level (read directly, or pooled from a finer stored level when this one is not stored).
    TileSource source = TileSource::FullMap;
};

struct RunSummary {
    int formatVersion = 0;
    std::string created, producer;
    int64_t tokens = 0, generatedTokens = 0;
    bool fullProbs = false, qk = false, stats = false, output = false;
    std::vector<int> pyramidLevels;
    std::vector<std::string> analyses; // names under /analysis
    uint64_t fileBytes = 0;
};

class RunReader {
public:
    // Throws FileError (missing/unreadable), FormatError (not a run file, truncated, corrupted, wrong shapes) or
    // UnsupportedError (format_version newer than ours), each naming the file.
    explicit RunReader(const std::filesystem::path& path, size_t cacheBytes = 256ull << 20);
    ~RunReader();

    const std::filesystem::path& path() const;
    const RunModelInfo& model() const;
    const RunTokens& tokens() const;
    const RunLayout& layout() const;
    // The probe the run was captured on; present() is false for other runs (and for files from before /probe).
    const RunProbe& probe() const;
    RunSummary summary() const;

    // size x size cells of head (layer, head) at `level` (level 0 = tokens), from (row0, col0), clipped at the edge
    // (empty past it). Throws ArgumentError for a layer, head or level outside the run.
    Tile tile(int64_t layer, int64_t head, int level, int64_t row0, int64_t col0, int64_t size,
              TileReduce reduce = TileReduce::Mean);

    // Exact level-0 probabilities of rows [row0, row0 + rows) x keys [col0, col0 + cols) of one head, [rows][cols]
    // (zeros above the causal diagonal), from the full maps or recomputed from Q/K/LSE; not cached. One query's row
    // (1 x T) or one key's column (T x 1) costs O(T), not a T x T tile. Throws ArgumentError for a head or a rectangle
    // outside the run, UnsupportedError when the run stores neither full maps nor Q/K.
    std::vector<float> block(int64_t layer, int64_t head, int64_t row0, int64_t col0, int64_t rows, int64_t cols);

    // Per-head statistics [H][T] of one layer: "received", "alpha", "entropy", "first_mass", "lse".
    std::vector<float> layerStat(const std::string& name, int64_t layer);
    std::vector<int32_t> layerTop1(int64_t layer);
    std::vector<float> valueNorms(int64_t layer); // [Hkv][T]
    RunOutput output();                           // empty when the run has no /output
    std::vector<float> residualNorms();           // [L+1][T]; empty when the run has none
    ResidualExtremes residualExtremes();          // states == 0 when the run has none (runs before they existed)
    // The result under /analysis/<name> (names are in summary().analyses). Throws ArgumentError naming the file and
    // the analyses present when there is none, FormatError when it is malformed.
    AnalysisResult analysis(const std::string& name);
    size_t cacheBytesUsed() const;
    uint64_t cacheHits() const;
    uint64_t cacheMisses() const;

    struct Impl;

private:
    std::unique_ptr<Impl> m_impl;
};

} // namespace attnscope::core

#pragma once
// Everything a view needs from a run file that is small enough to read once: identity, tokens, summary, per-head
// metrics, the output's top-k, the anchors analyses, and a thumbnail of every head. Loaded on a worker
// (loadRunSnapshot), then immutable and shared by the UI thread's views.
#include "store/run_analysis.hpp"
#include "store/run_reader.hpp"
#include "store/run_types.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace attnscope::views {

// One per-head metric: values [layer][head], NaN where the metric has none.
struct HeadMetric {
    std::string name; // "ANALYSIS/DATASET" or "stats/NAME"
    std::vector<double> values;
    double vmin = 0, vmax = 1; // over the finite values
};

// A metric with its range over the finite values (vmax = vmin + 1 when there are none or all are equal).
HeadMetric makeHeadMetric(std::string name, std::vector<double> values);

struct RunSnapshot {
    std::filesystem::path path;
    core::RunModelInfo model;
    core::RunTokens tokens;
    core::RunSummary summary;
    core::RunOutput output; // empty vectors when the run has none
    std::vector<HeadMetric> metrics;
    std::optional<core::AnalysisResult> anchors, anchorsSuppression; // /analysis/anchors{,_suppression} if present
    // Each head's whole map at one coarse level: thumbSide x thumbSide cells (mean), [layer][head][row][col].
    int thumbLevel = 0;
    int64_t thumbSide = 0;
    std::vector<float> thumbnails;

    int64_t layers() const { return model.nLayers; }
    int64_t heads() const { return model.nHeads; }
    int64_t tokenCount() const { return int64_t(tokens.ids.size()); }
    const HeadMetric* metric(const std::string& name) const;
    const float* thumbnail(int64_t layer, int64_t head) const {
        return thumbnails.data() + (layer * heads() + head) * thumbSide * thumbSide;
    }
};

// Reads the snapshot (worker thread: it does file I/O). Thumbnails use the coarsest level whose side is at most
// maxThumbSide. Throws the RunReader's errors, each naming the file.
RunSnapshot loadRunSnapshot(const std::filesystem::path& path, int64_t maxThumbSide = 64);

} // namespace attnscope::views

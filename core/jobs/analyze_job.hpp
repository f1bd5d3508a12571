#pragma once
// The analyze job: computes analyses of the catalog (analysis_catalog.hpp) from a run file and writes every result
// to /analysis/<name>/ of that file in one commit. What `attnscope-cli analyze` runs and what the GUI runs on a worker.
#include "store/run_analysis.hpp"
#include "store/run_types.hpp"

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace attnscope::core {

class Progress;

struct AnalyzeOptions {
    std::filesystem::path run;
    std::vector<std::string> only; // catalog names; empty = every analysis this run can give
};

struct AnalyzeReport {
    std::vector<AnalysisResult> results; // catalog order, as written (created stamped)
    // Analyses left out because the run cannot give them (too long for flow, no residual norms): name and why.
    std::vector<std::pair<std::string, std::string>> skipped;
    RunTokens tokens; // the run's tokens, for summaries that name them
};

// Thread: any one thread (it opens its own reader). The streaming analyses share one pass over the maps (each row
// block of each head made once; memory: one block, one layer's K, and what the analyses keep). Progress: stage
// "analyze", one unit per analysis (the shared pass reports its layers in the detail), then "write".
// Throws ArgumentError for an unknown name (one sentence listing the valid ones), UnsupportedError when an analysis
// named in `only` cannot be given by this run, Cancelled when progress is cancelled (the run is then unchanged), and
// the reader's and AnalysisWriter's errors, each naming the file.
AnalyzeReport analyzeRun(const AnalyzeOptions& options, Progress* progress = nullptr);

} // namespace attnscope::core

#pragma once
// Every analysis attnscope computes from a run file alone (no model run), by name: what `attnscope-cli analyze`
// and the GUI run, each turned into an AnalysisResult for /analysis/<name>/ (docs/cli.md lists what each stores).
// The metrics themselves live in core/analysis; this table only calls them with their documented defaults.
#include "analysis/row_pass.hpp"
#include "store/run_analysis.hpp"

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace attnscope::core {

class AttentionSource;
class RunReader;
struct RunTokens;

// An analysis that streams every head's rows, split so that analyze can feed many of them from one pass over the
// maps (row_pass.hpp): its visitors, then its result once the pass has shown them every row they asked for.
struct StreamedAnalysis {
    std::vector<std::unique_ptr<RowVisitor>> visitors; // may be empty when this run needs no pass (dense rollout)
    std::function<AnalysisResult()> finish;            // valid while the reader and source it was made from live
};

struct AnalysisEntry {
    std::string name;        // the /analysis/<name> group and the --only name
    std::string description; // one line for --help
    // Why this run cannot give the analysis (too many or too few tokens, statistics it did not keep); empty when it
    // can.
    std::function<std::string(RunReader&)> unavailable;
    // Computes the result (name, source, version, parameters and datasets filled). Thread: the reader's.
    std::function<AnalysisResult(RunReader&, AttentionSource&)> compute;
    // One line for people: the metric's top heads (or tokens), e.g. "sink heads (alpha_0 > 0.3): L2H1 0.91, ...".
    std::function<std::string(const AnalysisResult&, const RunTokens&)> summarize;
    bool onRequest = false; // run only when named (--only), never by default
    // Set for the analyses that stream the maps: analyze runs every chosen one in one pass; compute then runs the
    // same visitors alone.
    std::function<StreamedAnalysis(RunReader&, AttentionSource&)> stream;
};

// One pass feeding every analysis's visitors, then each finish(), in order. afterLayer as streamRows takes it.
std::vector<AnalysisResult> runStreamed(std::span<StreamedAnalysis> analyses, AttentionSource& source,
                                        const std::function<void(int64_t)>& afterLayer = {});

// In the order analyze runs them: statistics-only analyses first, then those that stream the maps.
const std::vector<AnalysisEntry>& analysisCatalog();

// The entries named (all but the onRequest ones when `names` is empty), in catalog order, each once. Throws
// ArgumentError with one sentence listing the valid names when a name is unknown.
std::vector<const AnalysisEntry*> selectAnalyses(std::span<const std::string> names);

// "L2H1" for layer 2, head 1 (how summaries and the GUI name heads).
std::string headLabel(int64_t layer, int64_t head);

} // namespace attnscope::core

#pragma once
// The anchors job: Thought Anchors' white-box analysis (the "anchors" catalog entry, methods.md §4.5) and the
// attention-suppression matrix (§4.6) of one run whose text is a reasoning trace, both written into the run. What
// `attnscope-cli anchors` runs. Thread: the model's worker.
#include "intervene/suppression_matrix.hpp"
#include "store/run_analysis.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace attnscope::core {

class Progress;
class Transformer;

// A trace file as the text to run: plain text as it is; a JSON object {"prompt", "reasoning", "answer"} (reasoning
// required, the others optional strings) as prompt + "<think>\n" + reasoning + "\n</think>\n" + answer, so that
// segmentation sees only the reasoning. Throws FormatError naming `origin` for malformed JSON or fields.
std::string traceText(const std::string& file, const std::string& origin);

struct AnchorsReport {
    AnalysisResult whiteBox;                  // /analysis/anchors
    AnalysisResult suppression;               // /analysis/anchors_suppression
    std::optional<AnalysisResult> resampling; // /analysis/anchors_resampling, when rollouts were asked for
    std::vector<std::string> sentences;
};

// `run` must exist and have been captured with `model`'s vocabulary (ArgumentError naming the file otherwise). The
// white-box result is committed first, the suppression matrix in a second commit. Progress: the analyze stages, then
// "suppress", then "write". Throws the analyze job's errors (UnsupportedError for a text with too few sentences),
// Cancelled (the run is unchanged).
AnchorsReport runAnchors(Transformer& model, const std::filesystem::path& run, const SuppressionOptions& options = {},
                         Progress* progress = nullptr);

// The top sentences by receiver-head broadcast, by suppression effect and (with rollouts) by counterfactual
// importance, `top` of each, as a plain-text table.
std::string anchorsTable(const AnchorsReport& report, int64_t top = 5);

// The report as one JSON document (`attnscope-cli anchors --json`): {"file", "sentences": [{"index", "text",
// "bytes": [b, e], "tokens": [b, e], "broadcast", "suppression_effect"}], "receiver_heads": [{"layer", "head",
// "kurtosis"}], "white_box": {"source", "version", "parameters"}, "suppression": {"source", "version", "parameters",
// "axes", "matrix": [[...]] (affected x suppressed, as stored), "effect": [...]}}; with rollouts also
// "resampling": {"source", "version", "parameters", "sentences": [{"index", "accuracy",
// "resampling_importance_accuracy", "resampling_importance_kl", "counterfactual_importance_accuracy",
// "counterfactual_importance_kl", "different_trajectories_fraction", "overdeterminedness", ["forced_answer_accuracy",
// "forced_importance_accuracy", "forced_importance_kl" with forced rollouts], "rollouts", "answered", "scored",
// "correct", "answers": {normalised answer: count}}]}. NaN and infinities become null. The per-head [L,H,N,N] matrices
// and vertical scores stay in the run file.
std::string anchorsJson(const AnchorsReport& report, const std::filesystem::path& run);

} // namespace attnscope::core

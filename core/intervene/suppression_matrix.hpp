#pragma once
// Thought Anchors' attention-suppression matrix (methods.md §4.6): for each sentence i, keys [s_i, e_i) get no
// attention in every layer and head; Supp[j][i] is the mean over sentence j's tokens of ln(KL(base || suppressed)
// + 1e-9) of their next-token distributions (rows = affected sentence j, columns = suppressed sentence i).
// Thread: the model's worker.
#include "store/run_analysis.hpp"

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace attnscope::core {

class Progress;
class Transformer;

struct SuppressionOptions {
    double temperature = 0.6; // of both the top-p selection and the KL's softmax
    double topP = 0.9999;     // nucleus kept per distribution
    int64_t maxTokens = 100;  // at most this many tokens per nucleus
    bool takeLog = true;      // ln(kl + epsilon) per token (the reference's take_log=True)
    double epsilon = 1e-9;
    int64_t onlyFirst = 0; // > 0: only the first N tokens of each affected sentence
};

// A sparse top-p distribution of one logit row: token ids and their raw logits, most probable first.
struct SparseLogits {
    std::vector<int32_t> ids;
    std::vector<float> logits;
};

// The nucleus of a row: tokens by descending softmax(row / temperature) until their mass reaches topP (the crossing
// token kept), at most maxTokens, at least one.
SparseLogits topPLogits(const float* row, int64_t vocab, const SuppressionOptions& options);
// The reference's calculate_kl_divergence_sparse: on the union of both supports, a token missing from one side gets
// logit -1e9 there; both re-softmaxed at the temperature; max(0, sum P ln(P/Q)) in nats.
double sparseKl(const SparseLogits& base, const SparseLogits& suppressed, double temperature);

struct SuppressionMatrix {
    int64_t sentences = 0;
    std::vector<double> values; // [affected j][suppressed i], NaN for an affected sentence without tokens
    std::vector<double> effect; // [i]: nanmean over j > i of values[j][i]; NaN when no later sentence has tokens
    SuppressionOptions options;
};

// ranges: [begin, end) token positions per sentence, in order. Runs N + 1 forwards over ids. Rows t < s_i are
// unaffected by causality and get kl = 0 without being compared (the reference's masked logits are exactly equal
// there; our renormalisation is equal up to float rounding). Progress: stage "suppress", one unit per forward.
// Throws ArgumentError for fewer than 2 tokens or a range outside the ids, Cancelled when progress is cancelled.
SuppressionMatrix suppressionMatrix(Transformer& model, std::span<const int32_t> ids,
                                    std::span<const std::array<int64_t, 2>> ranges,
                                    const SuppressionOptions& options = {}, Progress* progress = nullptr);

// The matrix as /analysis/anchors_suppression: "matrix" [N, N], "effect" [N], the sentence token ranges and the
// options as parameters.
AnalysisResult suppressionAnalysis(const SuppressionMatrix& m, std::span<const std::array<int64_t, 2>> ranges);

} // namespace attnscope::core

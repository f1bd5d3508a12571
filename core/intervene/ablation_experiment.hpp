#pragma once
// Head ablation experiments on one text (methods.md §5.1, §5.2): one set of heads ablated together, or a sweep of
// every head alone, measured against the unedited model; optionally the top-K heads of the sweep against K random
// heads over several seeds. Per-head arrays are [layer][head] row-major. Torch-free.
#include "intervene/attention_edit.hpp"
#include "store/run_analysis.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace attnscope::core {

class Progress;
class Transformer;

struct AblationParams {
    AblationMethod method = AblationMethod::Zero;
    std::vector<HeadRef> heads;        // ablated together (ignored by a sweep)
    bool sweep = false;                // every (layer, head) alone
    int32_t target = -1;               // token whose last-position logit change is reported; -1: the base argmax
    double epsilon = 1e-5;             // Scale only
    std::vector<int32_t> referenceIds; // Mean/Resample reference; empty: Mean uses the text itself
    int64_t topK = 0;                  // sweep only: ablate the top-K heads by rankBy together vs K random heads
    int64_t randomSeeds = 5;           // random draws of K heads
    uint64_t seed = 1;
    std::string rankBy = "kl";         // "kl", "delta_loss" or "ships"
};

// One ablated forward compared with the base one.
struct AblationMetrics {
    double loss = 0;      // mean next-token cross-entropy (nats) over positions 0..T-2
    double deltaLoss = 0; // loss - base loss
    double kl = 0;        // mean over positions of KL(base || ablated) of the next-token distributions (nats)
    double ships = 0;     // Ships (§5.2): KL(base || ablated) at the last position, with its 1e-12 smoothing
    double logitDiff = 0; // ablated - base logit of the target at the last position
};

struct AblationReport {
    int64_t layers = 0, heads = 0, tokens = 0;
    int32_t target = -1;
    double baseLoss = 0;
    AblationParams params;
    EditSet edits;                       // the edit of a head set; a sweep's template (its heads vary per row)
    AblationMetrics set;                 // a head set's result
    std::vector<AblationMetrics> perHead; // a sweep's results [L*H]
    // Top-K against random K (sweep with topK > 0): the metric named by params.rankBy.
    std::vector<HeadRef> topHeads;
    AblationMetrics top;
    std::vector<AblationMetrics> random; // one per seed
    double randomMean = 0, randomCiLow = 0, randomCiHigh = 0; // 95 % t interval of the mean over seeds
};

// Throws ArgumentError for fewer than 2 tokens, heads outside the model, a bad rankBy or topK, and a target outside
// the vocabulary.
AblationReport runAblation(Transformer& model, const std::vector<int32_t>& ids, const AblationParams& params,
                           Progress* progress = nullptr);

// The report as /analysis/ablation: per-head datasets for a sweep, scalars for a head set, the edits as JSON.
AnalysisResult ablationAnalysis(const AblationReport& report);
// A plain-text table (a sweep: one row per head, sorted by the ranking metric).
std::string ablationTable(const AblationReport& report, int64_t maxRows = 40);

// Value of a metric by name ("kl", "delta_loss", "ships", "logit_diff"); throws ArgumentError for another name.
double metricValue(const AblationMetrics& m, const std::string& name);

} // namespace attnscope::core

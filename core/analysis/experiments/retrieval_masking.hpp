#pragma once
// Wu et al.'s retrieval-head masking (methods.md §3.2): rank heads by the retrieval score of an unmasked
// needle-in-a-haystack run, then mask the top-K heads together and, per seed, K random heads from outside the ranked
// ones, measuring the haystack tests' success rate and (for the organism) its far-question accuracy. Rates are in
// [0, 1]. Thread: one worker.
#include "analysis/experiments/retrieval_experiment.hpp"
#include "intervene/attention_edit.hpp"
#include "organism/organism_eval.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace attnscope::core {

class Progress;
class Transformer;

struct RetrievalMaskingParams {
    int64_t k = 2;                                   // heads masked together (the reference's --mask_topk K)
    int64_t randomSeeds = 5;                         // random draws of K heads
    uint64_t seed = 1;                               // draw s uses SplitMix64(mix64(seed + s))
    AblationMethod method = AblationMethod::Uniform; // the reference's q = 0
    RetrievalParams retrieval;                       // the haystack protocol of every run, ranking included
    bool haystack = true; // measure the haystack tests under each mask (the ranking run always happens)
    // Heads never drawn at random besides the scoring ones: a circuit's heads that no retrieval score sees (the
    // previous-token head the induction heads read costs the organism 38.5 points in one draw). Empty: none.
    std::vector<HeadRef> keepOutOfRandom;
    // Measure the organism's far-question accuracy under each mask (evaluateOrganism; its edits are replaced).
    std::optional<OrganismEvalOptions> organism;
};

// One mask (none, the top-K or one random draw) and what it leaves of the two tasks.
struct MaskingCondition {
    std::string name;  // "none", "top" or "random"
    uint64_t seed = 0; // random: the draw's seed
    std::vector<HeadRef> heads;
    int64_t tests = 0, kept = 0; // haystack tests run and passed (ROUGE-1 recall > minRecall)
    double successRate = 0, meanRecall = 0;
    int64_t questions = 0, answered = 0; // organism
    double answerAccuracy = 0;
};

// Mean, sample standard deviation, range and 95 % t interval of the mean over the random draws.
struct MaskingSpread {
    double mean = 0, sd = 0, min = 0, max = 0, ciLow = 0, ciHigh = 0;
};

struct RetrievalMaskingResult {
    std::string model, haystack, needlesFile; // where the inputs came from, for the report
    int64_t layers = 0, heads = 0;
    RetrievalMaskingParams params;
    std::vector<RankedHead> ranking; // heads with a nonzero score in the unmasked run, best first
    std::vector<HeadRef> excluded;   // never drawn at random: the top-K, every ranked head and the kept-out ones
    MaskingCondition baseline, top;
    std::vector<MaskingCondition> random; // one per seed
    MaskingSpread randomSuccess, randomAccuracy;
};

// The K heads of a draw from pool (sorted), Fisher-Yates with SplitMix64: the same on every standard library.
std::vector<HeadRef> drawRandomHeads(std::vector<HeadRef> pool, int64_t k, uint64_t seed);

// Runs the experiment. Throws ArgumentError for k < 1, no seeds, fewer than k heads left outside the ranked ones, or
// as runRetrievalExperiment and evaluateOrganism; Cancelled when progress is cancelled (each run drives its stage).
RetrievalMaskingResult runRetrievalMasking(Transformer& model, std::string_view haystack,
                                           std::span<const NeedleCase> needles, const RetrievalMaskingParams& params,
                                           Progress* progress = nullptr);

// Everything as JSON ({"experiment": "retrieval_masking", ...}; docs/methods.md §3.2).
std::string retrievalMaskingJson(const RetrievalMaskingResult& r);
// A table: one row per condition and a mean ± sd row for the random draws; drops from the baseline in points.
std::string retrievalMaskingTable(const RetrievalMaskingResult& r);

} // namespace attnscope::core

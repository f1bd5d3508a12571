#pragma once
// Thought Anchors' black-box sentence importance from counterfactual rollouts (methods.md §4.3): per chunk, the
// accuracy of its rollouts, resampling / counterfactual / forced importance (accuracy and KL), the fraction of
// different trajectories and overdeterminedness. Plain host data; chunk i's rollouts are "sentence i resampled".
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace attnscope::core {

// One continuation of prompt + prefix without chunk i.
struct AnswerRollout {
    std::string resampled;       // the first chunk of the rollout text (§4.1 segmenter); empty when it has none
    std::string answer;          // the extracted answer; empty when the rollout gave none
    std::optional<bool> correct; // unknown when no expected answer was given
    double similarity = 0.0;     // cosine(resampled, removed sentence); NaN when `resampled` was not embedded
};

// The rollouts of one chunk (index = the chunk's position in the trace). Forced-answer rollouts are optional.
struct ChunkRollouts {
    int64_t index = 0;
    std::vector<AnswerRollout> rollouts;
    std::vector<AnswerRollout> forced;
};

enum class KlMode {
    AnswerDistribution, // KL between the normalised final-answer distributions (the reference CLI's default)
    Binary,             // KL between Bernoulli(P(correct)) distributions (use_prob_true)
};

struct ImportanceOptions {
    double similarityThreshold = 0.8; // a resampled chunk with cosine < this means something different (§4.3 L64)
    bool useSimilarChunks = true;     // counterfactual KL compares against next ∪ similar rollouts of chunk i
    KlMode klMode = KlMode::AnswerDistribution;
    double alpha = 1e-9; // additive smoothing of the KL estimator (1 = the reference's laplace_smooth)
};

// Every §4.3 number of one chunk. Importances the reference cannot compute (no next chunk, no rollout with an
// answer, no dissimilar rollout) are 0, as the reference stores them; `accuracy` is NaN when no rollout is scored.
struct ChunkImportance {
    int64_t index = 0;
    int64_t rollouts = 0; // rollouts of this chunk
    int64_t answered = 0; // with a non-empty answer
    int64_t scored = 0;   // with a non-empty answer and a known correctness (the accuracy's denominator)
    int64_t correctCount = 0;
    double accuracy = 0.0;             // of the rollouts
    double forcedAnswerAccuracy = 0.0; // of the forced-answer rollouts; NaN when none is scored
    double resamplingAccuracy = 0.0, resamplingKl = 0.0;
    double counterfactualAccuracy = 0.0, counterfactualKl = 0.0;
    double forcedAccuracy = 0.0, forcedKl = 0.0;
    double differentTrajectoriesFraction = 0.0;
    double overdeterminedness = 0.0;
};

// Answer normalisation before comparing or counting answers: trims; unwraps \text{...}, \textbf{...} and
// \mathrm{...}; drops '$', "\left", "\right", "\displaystyle", "\!" and every whitespace character; drops one
// trailing '.'; lower-cases ASCII letters. (The reference's SymPy equivalence is not attempted.)
std::string normalizeAnswer(std::string_view answer);

// #(correct and answered) / #(correctness known and answered); NaN when that denominator is 0.
double rolloutAccuracy(std::span<const AnswerRollout* const> rollouts);

// calculate_kl_divergence (§4.3): KL(first ‖ second) over the answered rollouts' normalised answers (or their
// correctness in Binary mode), smoothed by alpha, clamped at 0; 0 when either side has no answered rollout.
double answerKl(std::span<const AnswerRollout* const> first, std::span<const AnswerRollout* const> second,
                const ImportanceOptions& options = {});

// The §4.3 metrics of every chunk, in the order given. "Next" of chunk i is the smallest index > i whose chunk has
// rollouts (for the accuracies: a defined accuracy). Indices must be distinct.
std::vector<ChunkImportance> resamplingImportance(std::span<const ChunkRollouts> chunks,
                                                  const ImportanceOptions& options = {});

} // namespace attnscope::core

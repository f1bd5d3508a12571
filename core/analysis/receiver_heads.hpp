#pragma once
// Receiver heads (methods.md §4.5, Thought Anchors receiver_head_funcs.py): heads whose vertical scores are
// heavy-tailed (a few sentences receive most of the attention), ranked by kurtosis; and the broadcast score per
// sentence, the mean vertical score over those heads. Layer 0 is never a receiver head.
#include "analysis/head_scores.hpp"
#include "analysis/sentence_attention.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace attnscope::core {

// scipy.stats.kurtosis(fisher=True, bias=True, nan_policy="omit"): m4 / m2^2 - 3 over the non-NaN values, in
// double; NaN when none is left or when the values are constant (m2 <= (1e-15 * mean)^2, scipy's test).
double kurtosis(std::span<const float> values);

// Kurtosis of each head's vertical scores, [L][H].
HeadScores headKurtosis(const VerticalScores& vertical);

struct ReceiverHead {
    int64_t layer = 0, head = 0;
    double kurtosis = 0;
};

// The topK heads by kurtosis (average the per-trace HeadScores with meanOf first, as the reference does), highest
// first, ties by (layer, head); layer 0 and NaN never chosen. Fewer than topK when fewer heads qualify.
std::vector<ReceiverHead> receiverHeads(const HeadScores& kurtosis, int64_t topK = 20);

// recv[j] = mean over the receiver heads of vert[l,h,j] ([N]; NaN where any is NaN, as np.mean, or with no heads).
std::vector<float> broadcastScores(const VerticalScores& vertical, std::span<const ReceiverHead> heads);

// Everything §4.5 computes for one trace.
struct ReceiverHeadReport {
    SentenceAttention matrices;
    VerticalScores vertical;
    HeadScores kurtosis;
    std::vector<ReceiverHead> heads;
    std::vector<float> broadcast;
};

ReceiverHeadReport receiverHeadReport(AttentionSource& source, std::span<const std::array<int64_t, 2>> tokenRanges,
                                      const VerticalOptions& options = {}, int64_t topK = 20);

} // namespace attnscope::core

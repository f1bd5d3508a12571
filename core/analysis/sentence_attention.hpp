#pragma once
// Sentence x sentence attention per head and vertical scores (methods.md §4.5, Thought Anchors attn_funcs.py):
// M[l,h,i,j] = plain mean of A[s_i:e_i, s_j:e_j] (causal zeros included), bounds clipped to T-1 as the reference
// does; vertical score vert[l,h,j] = mean of M[i,j] over sentences i at least P after j. Values are float32
// [L][H][N][N] and [L][H][N]; NaN marks an empty block or a sentence with no receiver in range.
#include "analysis/attention_source.hpp"

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace attnscope::core {

struct SentenceAttention {
    int64_t layers = 0, heads = 0, sentences = 0;
    std::vector<float> values; // [L][H][N][N], row = attending sentence i, column = attended sentence j
    std::span<const float> head(int64_t l, int64_t h) const&& = delete; // a view; never of a temporary

    SentenceAttention() = default;
    SentenceAttention(int64_t layers, int64_t heads, int64_t sentences);
    float& at(int64_t l, int64_t h, int64_t i, int64_t j) {
        return values[size_t(((l * heads + h) * sentences + i) * sentences + j)];
    }
    float at(int64_t l, int64_t h, int64_t i, int64_t j) const {
        return values[size_t(((l * heads + h) * sentences + i) * sentences + j)];
    }
    std::span<const float> head(int64_t l, int64_t h) const& {
        return std::span<const float>(values).subspan(size_t((l * heads + h) * sentences * sentences),
                                                      size_t(sentences * sentences));
    }
};

// Block means for every head, streaming rows (memory O(rows x T) for the map plus the result). tokenRanges are
// [begin, end) token positions per sentence, in order. Throws ArgumentError for a range outside [0, T] or reversed.
SentenceAttention sentenceAttention(AttentionSource& source, std::span<const std::array<int64_t, 2>> tokenRanges);

struct VerticalOptions {
    int64_t proximityIgnore = 4; // P: only sentences i with i - j >= P count (the receiver-head pipeline's value)
    bool controlDepth = false;   // replace each row by its ranks / #valid (the function's default, not the pipeline's)
    bool median = false;         // score_type "median" instead of "mean"
};

struct VerticalScores {
    int64_t layers = 0, heads = 0, sentences = 0;
    std::vector<float> values; // [L][H][N]

    // A view into values: deleted on temporaries, whose storage would be gone before the view is read.
    std::span<const float> head(int64_t l, int64_t h) const&& = delete;

    std::span<const float> head(int64_t l, int64_t h) const& {
        return std::span<const float>(values).subspan(size_t((l * heads + h) * sentences), size_t(sentences));
    }
};

// Throws ArgumentError when proximityIgnore < 0.
VerticalScores verticalScores(const SentenceAttention& matrices, const VerticalOptions& options = {});

} // namespace attnscope::core

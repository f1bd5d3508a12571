#pragma once
// The published per-head classifiers of methods.md §7.2 that need only the maps: Voita et al.'s positional heads and
// head confidence, and Olsson et al.'s previous-token score.
#include "analysis/attention_source.hpp"
#include "analysis/head_scores.hpp"
#include "analysis/row_pass.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace attnscope::core {

struct PositionalParams {
    double minShare = 0.9; // Voita et al.: positional when >= 90 % of rows peak at one relative position
};

struct PositionalHeads {
    double minShare = 0.0;
    HeadScores share;                // share of rows whose maximum sits at `offset`
    std::vector<int64_t> offset;     // [L][H]: the most frequent key - query of the row maximum (-1 = previous token)
    std::vector<uint8_t> positional; // [L][H]: share >= minShare
};

// Every row counts (row 0 can only peak at offset 0); a row's maximum is its first largest value, as argmax takes.
// Ties between offsets go to the one nearer the diagonal.
PositionalHeads positionalHeads(AttentionSource& source, const PositionalParams& params = {});

struct ConfidenceParams {
    int32_t endTokenId = -1; // rows whose token is this id are left out (Voita et al. leave out EOS); -1 = none
};

// Mean over rows of max_k A[q,k]. tokens may be empty when endTokenId is -1; otherwise it must hold T ids.
// Throws ArgumentError for a token count that does not match or when every row is left out.
HeadScores headConfidence(AttentionSource& source, std::span<const int32_t> tokens = {},
                          const ConfidenceParams& params = {});

// Olsson et al.'s previous-token score: mean over rows q = 1..T-1 of A[q, q-1]. Throws ArgumentError when T < 2.
HeadScores previousTokenScore(AttentionSource& source);

// The same three metrics as row visitors, for one pass that feeds several analyses (row_pass.hpp); each function
// above is its visitor run alone. Constructors take the source's shape and throw what the functions throw.
class PositionalVisitor final : public RowVisitor {
public:
    PositionalVisitor(const AttentionSource& source, const PositionalParams& params = {});
    int64_t rowEnd() const override { return m_length; }
    void visit(int64_t layer, int64_t head, int64_t row0, int64_t count, std::span<const float> rows) override;
    bool headsInParallel() const override { return true; }
    void layerDone(int64_t layer) override;
    const PositionalHeads& result() const { return m_out; } // complete after the pass

private:
    int64_t m_heads, m_length;
    std::vector<int64_t> m_counts; // [H][T] of the current layer: rows whose maximum is d keys before the query
    PositionalHeads m_out;
};

class ConfidenceVisitor final : public RowVisitor {
public:
    ConfidenceVisitor(const AttentionSource& source, std::span<const int32_t> tokens = {},
                      const ConfidenceParams& params = {});
    int64_t rowEnd() const override { return m_length; }
    void visit(int64_t layer, int64_t head, int64_t row0, int64_t count, std::span<const float> rows) override;
    bool headsInParallel() const override { return true; }
    HeadScores result() const;

private:
    int64_t m_length, m_rowsCounted = 0;
    std::vector<uint8_t> m_counted; // [T]: rows that count
    HeadScores m_sum;
};

class PreviousTokenVisitor final : public RowVisitor {
public:
    explicit PreviousTokenVisitor(const AttentionSource& source);
    int64_t rowEnd() const override { return m_length; }
    void visit(int64_t layer, int64_t head, int64_t row0, int64_t count, std::span<const float> rows) override;
    bool headsInParallel() const override { return true; }
    HeadScores result() const;

private:
    int64_t m_length;
    HeadScores m_sum;
};

} // namespace attnscope::core

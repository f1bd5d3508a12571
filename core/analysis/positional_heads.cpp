#include "analysis/positional_heads.hpp"

#include "errors.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace attnscope::core {

namespace {

// Index of the first largest value among keys 0..q.
int64_t argmaxCausal(std::span<const float> row, int64_t q) {
    int64_t best = 0;
    for (int64_t k = 1; k <= q; ++k)
        if (row[size_t(k)] > row[size_t(best)]) best = k;
    return best;
}

} // namespace

PositionalVisitor::PositionalVisitor(const AttentionSource& source, const PositionalParams& params)
    : m_heads(source.heads()), m_length(source.length()),
      m_counts(size_t(m_heads * m_length)), m_out{params.minShare, HeadScores(source.layers(), m_heads),
                                                  std::vector<int64_t>(size_t(source.layers() * m_heads)),
                                                  std::vector<uint8_t>(size_t(source.layers() * m_heads))} {}

void PositionalVisitor::visit(int64_t, int64_t head, int64_t row0, int64_t count, std::span<const float> rows) {
    int64_t* counts = m_counts.data() + head * m_length;
    for (int64_t i = 0; i < count; ++i) {
        const int64_t q = row0 + i;
        ++counts[q - argmaxCausal(rows.subspan(size_t(i * m_length), size_t(m_length)), q)];
    }
}

void PositionalVisitor::layerDone(int64_t layer) {
    for (int64_t h = 0; h < m_heads; ++h) {
        int64_t* counts = m_counts.data() + h * m_length;
        int64_t best = 0; // ascending distance with a strict > keeps the offset nearer the diagonal on ties
        for (int64_t d = 1; d < m_length; ++d)
            if (counts[d] > counts[best]) best = d;
        const size_t at = size_t(layer * m_heads + h);
        m_out.share.values[at] = double(counts[best]) / double(m_length);
        m_out.offset[at] = -best;
        m_out.positional[at] = m_out.share.values[at] >= m_out.minShare ? 1 : 0;
        std::fill(counts, counts + m_length, 0);
    }
}

PositionalHeads positionalHeads(AttentionSource& source, const PositionalParams& params) {
    PositionalVisitor visitor(source, params);
    streamRows(source, visitor);
    return visitor.result();
}

ConfidenceVisitor::ConfidenceVisitor(const AttentionSource& source, std::span<const int32_t> tokens,
                                     const ConfidenceParams& params)
    : m_length(source.length()), m_counted(size_t(m_length), 1), m_sum(source.layers(), source.heads()) {
    const int64_t T = m_length;
    if (params.endTokenId >= 0) {
        if (int64_t(tokens.size()) != T)
            throw ArgumentError(
                fmt::format("{} token ids were given for an attention map of {} tokens.", tokens.size(), T));
        for (int64_t t = 0; t < T; ++t)
            m_counted[size_t(t)] = tokens[size_t(t)] != params.endTokenId;
    }
    for (uint8_t c : m_counted)
        m_rowsCounted += c;
    if (m_rowsCounted == 0)
        throw ArgumentError(
            fmt::format("Every token is the end token {}, so no row is left for head confidence.", params.endTokenId));
}

void ConfidenceVisitor::visit(int64_t layer, int64_t head, int64_t row0, int64_t count, std::span<const float> rows) {
    double& sum = m_sum.at(layer, head);
    for (int64_t i = 0; i < count; ++i) {
        const int64_t q = row0 + i;
        const std::span<const float> row = rows.subspan(size_t(i * m_length), size_t(m_length));
        if (m_counted[size_t(q)]) sum += row[size_t(argmaxCausal(row, q))];
    }
}

HeadScores ConfidenceVisitor::result() const {
    HeadScores confidence = m_sum;
    for (double& v : confidence.values)
        v /= double(m_rowsCounted);
    return confidence;
}

HeadScores headConfidence(AttentionSource& source, std::span<const int32_t> tokens, const ConfidenceParams& params) {
    ConfidenceVisitor visitor(source, tokens, params);
    streamRows(source, visitor);
    return visitor.result();
}

PreviousTokenVisitor::PreviousTokenVisitor(const AttentionSource& source)
    : m_length(source.length()), m_sum(source.layers(), source.heads()) {
    if (m_length < 2) throw ArgumentError("A previous-token score needs a sequence of at least 2 tokens.");
}

void PreviousTokenVisitor::visit(int64_t layer, int64_t head, int64_t row0, int64_t count,
                                 std::span<const float> rows) {
    double& sum = m_sum.at(layer, head);
    for (int64_t q = std::max<int64_t>(row0, 1); q < row0 + count; ++q)
        sum += rows[size_t((q - row0) * m_length + q - 1)];
}

HeadScores PreviousTokenVisitor::result() const {
    HeadScores score = m_sum;
    for (double& v : score.values)
        v /= double(m_length - 1);
    return score;
}

HeadScores previousTokenScore(AttentionSource& source) {
    PreviousTokenVisitor visitor(source);
    streamRows(source, visitor);
    return visitor.result();
}

} // namespace attnscope::core

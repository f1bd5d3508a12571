#include "analysis/rollout.hpp"

#include "analysis/augmented_attention.hpp"
#include "errors.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace attnscope::core {

namespace {

int64_t lastLayerOf(const AttentionSource& source, int64_t lastLayer) {
    if (lastLayer < -1 || lastLayer >= source.layers())
        throw ArgumentError(fmt::format("Layer {} is outside a model of {} layers.", lastLayer, source.layers()));
    return lastLayer < 0 ? source.layers() - 1 : lastLayer;
}

} // namespace

Rollout rollout(AttentionSource& source, const RolloutParams& params) {
    const int64_t T = source.length(), last = lastLayerOf(source, params.lastLayer);
    if (T > kRolloutMaxTokens)
        throw ArgumentError(fmt::format("Rollout of all {} rows is limited to {} tokens; roll out chosen rows instead.",
                                        T, kRolloutMaxTokens));
    AugmentedAttention aug(source, params.addResidual);
    const int64_t B = aug.blockRows();
    std::vector<double> block(size_t(B * T)), prev(size_t(T * T)), next(size_t(T * T));
    for (int64_t l = 0; l <= last; ++l) {
        std::fill(next.begin(), next.end(), 0.0);
        for (int64_t row0 = 0; row0 < T; row0 += B) {
            const int64_t count = std::min(B, T - row0);
            aug.rows(l, row0, count, block);
            for (int64_t i = 0; i < count; ++i) {
                const int64_t q = row0 + i;
                const double* a = block.data() + i * T;
                double* out = next.data() + q * T;
                if (l == 0) {
                    std::copy(a, a + T, out);
                    continue;
                }
                // Both factors are lower triangular: a[j] = 0 for j > q and prev[j][m] = 0 for m > j.
                for (int64_t j = 0; j <= q; ++j) {
                    if (a[j] == 0.0) continue;
                    const double* r = prev.data() + j * T;
                    for (int64_t m = 0; m <= j; ++m)
                        out[m] += a[j] * r[m];
                }
            }
        }
        std::swap(prev, next);
    }
    Rollout out{T, std::vector<int64_t>(size_t(T)), std::move(prev)};
    for (int64_t q = 0; q < T; ++q)
        out.outputRows[size_t(q)] = q;
    return out;
}

RolloutRowsVisitor::RolloutRowsVisitor(const AttentionSource& source, std::span<const int64_t> outputRows,
                                       const RolloutParams& params)
    : m_heads(source.heads()), m_last(lastLayerOf(source, params.lastLayer)), m_top(0),
      m_addResidual(params.addResidual) {
    const int64_t T = source.length();
    if (outputRows.empty()) throw ArgumentError("Rollout needs at least one output row.");
    for (int64_t q : outputRows)
        if (q < 0 || q >= T) throw ArgumentError(fmt::format("Output row {} is outside the {} tokens.", q, T));
    const int64_t n = int64_t(outputRows.size());
    // v is nonzero only at positions <= q, so rows past `top` are never read.
    m_top = *std::max_element(outputRows.begin(), outputRows.end());
    m_out = {T, std::vector<int64_t>(outputRows.begin(), outputRows.end()), std::vector<double>(size_t(n * T), 0.0)};
    for (int64_t i = 0; i < n; ++i)
        m_out.values[size_t(i * T + outputRows[size_t(i)])] = 1.0;
    m_next.assign(m_out.values.size(), 0.0);
}

void RolloutRowsVisitor::visit(int64_t layer, int64_t head, int64_t row0, int64_t count, std::span<const float> rows) {
    if (layer > m_last) return;
    // The head average exactly as AugmentedAttention forms it: heads added in order, each divided by H.
    const int64_t T = m_out.length;
    if (head == 0) m_block.assign(size_t(count * T), 0.0);
    for (int64_t i = 0; i < count; ++i) // cells past the diagonal stay 0 (0 / H adds nothing)
        for (int64_t k = 0; k <= row0 + i; ++k)
            m_block[size_t(i * T + k)] += double(rows[size_t(i * T + k)]) / double(m_heads);
}

void RolloutRowsVisitor::blockDone(int64_t layer, int64_t row0, int64_t count) {
    if (layer > m_last) return;
    const int64_t T = m_out.length, n = int64_t(m_out.outputRows.size());
    const int64_t used = std::min(count, m_top + 1 - row0);
    if (m_addResidual)
        for (int64_t i = 0; i < count; ++i)
            addResidualToRow(m_block.data() + i * T, row0 + i);
    for (int64_t i = 0; i < n; ++i)
        for (int64_t jj = 0; jj < used; ++jj) {
            const int64_t j = row0 + jj;
            const double w = m_out.values[size_t(i * T + j)];
            if (w == 0.0) continue;
            const double* a = m_block.data() + jj * T;
            double* out = m_next.data() + i * T;
            for (int64_t k = 0; k <= j; ++k)
                out[k] += w * a[k];
        }
}

void RolloutRowsVisitor::layerDone(int64_t layer) {
    if (layer > m_last) return;
    std::swap(m_out.values, m_next);
    std::fill(m_next.begin(), m_next.end(), 0.0);
}

Rollout rolloutRows(AttentionSource& source, std::span<const int64_t> outputRows, const RolloutParams& params) {
    RolloutRowsVisitor visitor(source, outputRows, params);
    streamRows(source, visitor);
    return visitor.result();
}

} // namespace attnscope::core

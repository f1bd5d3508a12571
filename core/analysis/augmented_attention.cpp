#include "analysis/augmented_attention.hpp"

#include <algorithm>
#include <cassert>

namespace attnscope::core {

void addResidualToRow(double* row, int64_t diagonal) {
    row[diagonal] += 1.0;
    double sum = 0;
    for (int64_t k = 0; k <= diagonal; ++k)
        sum += row[k];
    for (int64_t k = 0; k <= diagonal; ++k)
        row[k] /= sum;
}

AugmentedAttention::AugmentedAttention(AttentionSource& source, bool addResidual)
    : m_source(source), m_addResidual(addResidual), m_block(std::max<int64_t>(1, source.preferredRows())),
      m_head(size_t(m_block * source.length())) {}

void AugmentedAttention::rows(int64_t layer, int64_t row0, int64_t count, std::span<double> out) {
    const int64_t T = m_source.length(), H = m_source.heads();
    assert(count <= m_block && "AugmentedAttention: more rows than one block");
    assert(int64_t(out.size()) >= count * T && "AugmentedAttention: output too small");
    std::fill(out.begin(), out.begin() + count * T, 0.0);
    for (int64_t h = 0; h < H; ++h) {
        m_source.rows(layer, h, row0, count, std::span<float>(m_head.data(), size_t(count * T)));
        for (int64_t i = 0; i < count * T; ++i)
            out[size_t(i)] += double(m_head[size_t(i)]) / double(H);
    }
    if (!m_addResidual) return;
    for (int64_t i = 0; i < count; ++i)
        addResidualToRow(out.data() + i * T, row0 + i);
}

} // namespace attnscope::core

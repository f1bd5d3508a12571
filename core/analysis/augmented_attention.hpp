#pragma once
// Abnar & Zuidema's residual-augmented, head-averaged attention (methods.md §6.1), served in row blocks:
// Â_l = (mean_h A[l,h] + I) / rowsum(mean_h A[l,h] + I). What rollout and flow multiply and cut.
#include "analysis/attention_source.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace attnscope::core {

// One row of the head average made residual-augmented in place: +1 on the diagonal, then divided by the row's actual
// sum over keys 0..diagonal (as the reference does; it is 2 only when the average's row sums to exactly 1).
void addResidualToRow(double* row, int64_t diagonal);

class AugmentedAttention {
public:
    // addResidual false serves the plain head average (rows then sum to 1 without renormalising).
    AugmentedAttention(AttentionSource& source, bool addResidual);

    int64_t length() const { return m_source.length(); }
    int64_t layers() const { return m_source.layers(); }
    // Most rows per rows() call: the source's preferredRows(), so one head's buffer is all the map memory held.
    int64_t blockRows() const { return m_block; }
    // Rows [row0, row0 + count) of Â_layer as double [count][T]; count <= blockRows().
    void rows(int64_t layer, int64_t row0, int64_t count, std::span<double> out);

private:
    AttentionSource& m_source;
    bool m_addResidual;
    int64_t m_block;
    std::vector<float> m_head; // one head's rows
};

} // namespace attnscope::core

#pragma once
// Attention rollout (Abnar & Zuidema 2020, methods.md §6.1): R_0 = Â_0, R_l = Â_l R_(l-1), so R[q,k] is how much
// output position q draws on input token k through every layer. Â is the residual-augmented head average.
#include "analysis/attention_source.hpp"
#include "analysis/row_pass.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace attnscope::core {

struct RolloutParams {
    bool addResidual = true; // the paper's (Â + I) / rowsum; false multiplies the raw head averages
    int64_t lastLayer = -1;  // roll out through layers 0..lastLayer; -1 = all layers
};

// Above this T the all-rows rollout refuses (two T x T double matrices and O(L T^3 / 6) work); rolloutRows works at
// any T.
constexpr int64_t kRolloutMaxTokens = 1024;

struct Rollout {
    int64_t length = 0;              // T
    std::vector<int64_t> outputRows; // the output positions q, one per row of values
    std::vector<double> values;      // [outputRows][T]: R[q, k], each row sums to 1
    double at(size_t row, int64_t key) const { return values[row * size_t(length) + size_t(key)]; }
};

// Every output row. Throws ArgumentError when T > kRolloutMaxTokens or lastLayer is outside the model.
Rollout rollout(AttentionSource& source, const RolloutParams& params = {});
// Chosen output rows, streaming: e_q Â_(L-1) ... Â_0, reading only rows <= max(q) of each layer, one block at a time.
// Throws ArgumentError for a row outside [0, T), no rows, or lastLayer outside the model.
Rollout rolloutRows(AttentionSource& source, std::span<const int64_t> outputRows, const RolloutParams& params = {});

// rolloutRows as a row visitor, for one pass that feeds several analyses (row_pass.hpp), which walks the layers
// downward as rolloutRows does; rolloutRows runs it alone. Holds 2 x outputRows x T doubles and one block of the
// head average. Throws what rolloutRows throws.
class RolloutRowsVisitor final : public RowVisitor {
public:
    RolloutRowsVisitor(const AttentionSource& source, std::span<const int64_t> outputRows,
                       const RolloutParams& params = {});
    int64_t rowEnd() const override { return m_top + 1; }
    void visit(int64_t layer, int64_t head, int64_t row0, int64_t count, std::span<const float> rows) override;
    void blockDone(int64_t layer, int64_t row0, int64_t count) override;
    void layerDone(int64_t layer) override;
    const Rollout& result() const { return m_out; } // complete after the pass

private:
    int64_t m_heads, m_last, m_top;
    bool m_addResidual;
    std::vector<double> m_block; // Â rows of the current block: the head average, then augmented
    std::vector<double> m_next;  // v times this layer, accumulating
    Rollout m_out;               // values holds v: e_q times the layers above the current one
};

} // namespace attnscope::core

#pragma once
// TransformerLens detect_head (methods.md §7.1): how much of each head's attention falls on a detection pattern built
// from the token ids — previous-token, duplicate-token or induction heads.
#include "analysis/attention_source.hpp"
#include "analysis/head_scores.hpp"
#include "analysis/row_pass.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace attnscope::core {

enum class DetectionPattern {
    PreviousToken,  // D[q, q-1] = 1
    DuplicateToken, // D[q, k] = 1 iff tok[k] == tok[q], k < q
    Induction,      // D[q, k] = 1 iff tok[k-1] == tok[q], 1 <= k <= q
};

enum class ErrorMeasure {
    Mul, // sum(A * D) / sum(A): the share of attention on the pattern (TransformerLens default)
    Abs, // 1 - round(sum|A - D| / T, 3)
};

struct HeadDetectorParams {
    ErrorMeasure errorMeasure = ErrorMeasure::Mul;
    bool excludeBos = false;          // zero column 0 first (also in Mul's denominator)
    bool excludeCurrentToken = false; // zero the diagonal first
    bool roundAbs = true;             // TransformerLens rounds Abs to 3 decimals; false keeps 1 - sum|A - D| / T
};

// Scores of every head on one sequence; tokens are the sequence's ids (with its BOS if it has one). A mean over
// several sequences is meanOf() of their scores. Mul gives NaN where the exclusions leave no attention at all (as
// TransformerLens divides 0 by 0). Throws ArgumentError when tokens.size() != T or T < 2.
HeadScores detectHead(AttentionSource& source, std::span<const int32_t> tokens, DetectionPattern pattern,
                      const HeadDetectorParams& params = {});

class PatternKeys;

// detectHead as a row visitor, for one pass that feeds several analyses (row_pass.hpp); detectHead runs it alone.
// tokens must outlive it. Throws what detectHead throws.
class HeadDetectorVisitor final : public RowVisitor {
public:
    HeadDetectorVisitor(const AttentionSource& source, std::span<const int32_t> tokens, DetectionPattern pattern,
                        const HeadDetectorParams& params = {});
    ~HeadDetectorVisitor() override;
    int64_t rowEnd() const override { return m_length; }
    void visit(int64_t layer, int64_t head, int64_t row0, int64_t count, std::span<const float> rows) override;
    bool headsInParallel() const override { return true; }
    HeadScores result() const;

private:
    int64_t m_length;
    HeadDetectorParams m_params;
    std::unique_ptr<PatternKeys> m_keys;
    std::vector<double> m_onPattern, m_total, m_absDiff; // [L][H]
    HeadScores m_shape;
};

} // namespace attnscope::core

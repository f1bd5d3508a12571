#include "analysis/head_detector.hpp"

#include "errors.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <unordered_map>
#include <vector>

namespace attnscope::core {

// The keys where D[q, :] = 1, visited per query row. Positions are kept per id (O(T) memory), so a row costs its
// matches rather than T, and a sequence of one repeated id does not build a T x T list.
class PatternKeys {
public:
    PatternKeys(std::span<const int32_t> tokens, DetectionPattern pattern) : m_tokens(tokens), m_pattern(pattern) {
        for (int64_t t = 0; t < int64_t(tokens.size()); ++t)
            m_positions[tokens[size_t(t)]].push_back(t);
    }

    template <typename Fn> void forEach(int64_t q, Fn&& fn) const {
        if (m_pattern == DetectionPattern::PreviousToken) {
            if (q >= 1) fn(q - 1);
            return;
        }
        // Induction: k - 1 is an earlier position p < q of the same id, so k = p + 1 <= q (k = q when
        // tok[q - 1] == tok[q]). Duplicate: k = p itself.
        const int64_t shift = m_pattern == DetectionPattern::Induction ? 1 : 0;
        for (int64_t p : m_positions.at(m_tokens[size_t(q)])) {
            if (p >= q) break;
            fn(p + shift);
        }
    }

private:
    std::span<const int32_t> m_tokens;
    DetectionPattern m_pattern;
    std::unordered_map<int32_t, std::vector<int64_t>> m_positions;
};

namespace {

// Python's round(x, 3) up to the last bit of x: ties go to even.
double round3(double x) {
    return std::nearbyint(x * 1000.0) / 1000.0;
}

} // namespace

HeadDetectorVisitor::HeadDetectorVisitor(const AttentionSource& source, std::span<const int32_t> tokens,
                                         DetectionPattern pattern, const HeadDetectorParams& params)
    : m_length(source.length()), m_params(params) {
    const int64_t L = source.layers(), H = source.heads(), T = m_length;
    if (int64_t(tokens.size()) != T)
        throw ArgumentError(
            fmt::format("{} token ids were given for an attention map of {} tokens.", tokens.size(), T));
    if (T < 2) throw ArgumentError("Head detection needs a sequence of at least 2 tokens.");
    m_keys = std::make_unique<PatternKeys>(tokens, pattern);
    m_onPattern.assign(size_t(L * H), 0.0), m_total = m_onPattern, m_absDiff = m_onPattern;
    m_shape = HeadScores(L, H);
}

HeadDetectorVisitor::~HeadDetectorVisitor() = default;

void HeadDetectorVisitor::visit(int64_t layer, int64_t head, int64_t row0, int64_t count, std::span<const float> rows) {
    const HeadDetectorParams& params = m_params;
    auto excluded = [&](int64_t q, int64_t k) {
        return (params.excludeBos && k == 0) || (params.excludeCurrentToken && k == q);
    };
    const size_t at = size_t(layer * m_shape.heads + head);
    double &onPattern = m_onPattern[at], &total = m_total[at], &absDiff = m_absDiff[at];
    for (int64_t i = 0; i < count; ++i) {
        const int64_t q = row0 + i;
        const float* row = rows.data() + i * m_length;
        double rowSum = 0;
        for (int64_t k = 0; k <= q; ++k)
            if (!excluded(q, k)) rowSum += row[k];
        double hit = 0, hitDiff = 0;
        m_keys->forEach(q, [&](int64_t k) {
            if (excluded(q, k)) return;
            const double a = row[k];
            hit += a;
            hitDiff += std::abs(a - 1.0) - a; // |A - 1| replaces the |A - 0| counted in rowSum
        });
        onPattern += hit;
        total += rowSum;
        absDiff += rowSum + hitDiff;
    }
}

HeadScores HeadDetectorVisitor::result() const {
    HeadScores scores = m_shape;
    const double T = double(m_length);
    for (size_t i = 0; i < scores.values.size(); ++i)
        if (m_params.errorMeasure == ErrorMeasure::Mul)
            scores.values[i] = m_total[i] > 0 ? m_onPattern[i] / m_total[i] : std::numeric_limits<double>::quiet_NaN();
        else
            scores.values[i] = 1.0 - (m_params.roundAbs ? round3(m_absDiff[i] / T) : m_absDiff[i] / T);
    return scores;
}

HeadScores detectHead(AttentionSource& source, std::span<const int32_t> tokens, DetectionPattern pattern,
                      const HeadDetectorParams& params) {
    HeadDetectorVisitor visitor(source, tokens, pattern, params);
    streamRows(source, visitor);
    return visitor.result();
}

} // namespace attnscope::core

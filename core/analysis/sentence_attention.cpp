#include "analysis/sentence_attention.hpp"

#include "analysis/head_rows.hpp"
#include "errors.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace attnscope::core {

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// scipy.stats.rankdata(method="average") over the non-NaN values, divided by their count; NaN stays NaN.
void rankRow(std::span<float> row) {
    std::vector<size_t> order;
    for (size_t k = 0; k < row.size(); ++k)
        if (!std::isnan(row[k])) order.push_back(k);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return row[a] < row[b]; });
    const double n = double(order.size());
    std::vector<float> ranks(row.size(), kNaN);
    for (size_t a = 0; a < order.size();) {
        size_t b = a;
        while (b + 1 < order.size() && row[order[b + 1]] == row[order[a]])
            ++b;
        const double average = (double(a + 1) + double(b + 1)) / 2.0; // ranks are 1-based
        for (size_t k = a; k <= b; ++k)
            ranks[order[k]] = float(average / n);
        a = b + 1;
    }
    std::copy(ranks.begin(), ranks.end(), row.begin());
}

float meanOrMedian(std::vector<double>& xs, bool median) {
    if (xs.empty()) return kNaN;
    if (!median) {
        double sum = 0;
        for (double x : xs)
            sum += x;
        return float(sum / double(xs.size()));
    }
    std::sort(xs.begin(), xs.end());
    const size_t n = xs.size();
    return float(n % 2 ? xs[n / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2.0);
}

} // namespace

SentenceAttention::SentenceAttention(int64_t layers, int64_t heads, int64_t sentences)
    : layers(layers), heads(heads), sentences(sentences), values(size_t(layers * heads * sentences * sentences), 0.0f) {
}

SentenceAttention sentenceAttention(AttentionSource& source, std::span<const std::array<int64_t, 2>> tokenRanges) {
    const int64_t L = source.layers(), H = source.heads(), T = source.length(), N = int64_t(tokenRanges.size());
    // The reference clips both bounds to T-1, so the last token never takes part (kept for exact matching).
    std::vector<std::array<int64_t, 2>> bounds;
    for (const auto& [b, e] : tokenRanges) {
        if (b < 0 || e < b || e > T)
            throw ArgumentError(fmt::format(
                "The sentence token range [{}, {}) lies outside the {} tokens of the attention map.", b, e, T));
        bounds.push_back({std::min(b, T - 1), std::min(e, T - 1)});
    }
    // Sentences whose rows each query row belongs to (one, except where clipped ranges coincide).
    std::vector<std::vector<int32_t>> owners(static_cast<size_t>(T));
    int64_t firstRow = T, endRow = 0;
    for (int64_t i = 0; i < N; ++i)
        for (int64_t q = bounds[size_t(i)][0]; q < bounds[size_t(i)][1]; ++q) {
            owners[size_t(q)].push_back(int32_t(i));
            firstRow = std::min(firstRow, q);
            endRow = std::max(endRow, q + 1);
        }

    SentenceAttention out(L, H, N);
    HeadRows rows(source);
    std::vector<double> prefix(size_t(T) + 1), sums(size_t(N * N));
    for (int64_t l = 0; l < L; ++l)
        for (int64_t h = 0; h < H; ++h) {
            std::fill(sums.begin(), sums.end(), 0.0);
            if (firstRow < endRow)
                rows.forEachRow(l, h, firstRow, endRow, [&](int64_t q, std::span<const float> row) {
                    if (owners[size_t(q)].empty()) return;
                    for (int64_t k = 0; k < T; ++k)
                        prefix[size_t(k + 1)] = prefix[size_t(k)] + row[size_t(k)];
                    for (int32_t i : owners[size_t(q)])
                        for (int64_t j = 0; j < N; ++j)
                            sums[size_t(i * N + j)] +=
                                prefix[size_t(bounds[size_t(j)][1])] - prefix[size_t(bounds[size_t(j)][0])];
                });
            for (int64_t i = 0; i < N; ++i)
                for (int64_t j = 0; j < N; ++j) {
                    const int64_t cells =
                        (bounds[size_t(i)][1] - bounds[size_t(i)][0]) * (bounds[size_t(j)][1] - bounds[size_t(j)][0]);
                    // numpy's mean of an empty block is NaN; keep it so that nanmeans skip it as the reference does.
                    out.at(l, h, i, j) = cells ? float(sums[size_t(i * N + j)] / double(cells)) : kNaN;
                }
        }
    return out;
}

VerticalScores verticalScores(const SentenceAttention& m, const VerticalOptions& options) {
    if (options.proximityIgnore < 0)
        throw ArgumentError(
            fmt::format("The proximity exclusion must be at least 0 sentences, not {}.", options.proximityIgnore));
    const int64_t N = m.sentences, P = options.proximityIgnore;
    VerticalScores out{m.layers, m.heads, N, std::vector<float>(size_t(m.layers * m.heads * N), kNaN)};
    std::vector<float> masked(size_t(N * N));
    std::vector<double> column;
    for (int64_t l = 0; l < m.layers; ++l)
        for (int64_t h = 0; h < m.heads; ++h) {
            const auto head = m.head(l, h);
            for (int64_t i = 0; i < N; ++i)
                for (int64_t j = 0; j < N; ++j)
                    masked[size_t(i * N + j)] = (j <= i && i - j >= P) ? head[size_t(i * N + j)] : kNaN;
            if (options.controlDepth)
                for (int64_t i = 0; i < N; ++i)
                    rankRow(std::span<float>(masked).subspan(size_t(i * N), size_t(N)));
            for (int64_t j = 0; j < N; ++j) {
                column.clear();
                for (int64_t i = j + P; i < N; ++i)
                    if (const float v = masked[size_t(i * N + j)]; !std::isnan(v)) column.push_back(v);
                out.values[size_t((l * m.heads + h) * N + j)] = meanOrMedian(column, options.median);
            }
        }
    return out;
}

} // namespace attnscope::core

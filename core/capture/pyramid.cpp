#include "capture/pyramid.hpp"

#include "store/run_types.hpp"

#include <ATen/ATen.h>

#include <algorithm>

namespace attnscope::core {

std::vector<int> pyramidLevelsFor(int64_t tokens, int64_t maxSide) {
    std::vector<int> levels;
    if (tokens <= 1) return levels;
    int first = 1;
    while (pyramidSize(tokens, first) > maxSide)
        ++first;
    for (int l = first;; ++l) {
        levels.push_back(l);
        if (pyramidSize(tokens, l) == 1) break;
    }
    return levels;
}

void poolBlockIntoLevel(const at::Tensor& probs, int64_t rowBegin, int64_t tokens, int level, at::Tensor& sums,
                        at::Tensor& maxes) {
    const int64_t s = int64_t(1) << level;
    const int64_t n = pyramidSize(tokens, level);
    const int64_t heads = probs.size(0), rows = probs.size(1), keys = probs.size(2);
    const int64_t cellRows = (rows + s - 1) / s;
    // Zero padding to whole cells: zeros change no sum, and no maximum since probabilities are >= 0.
    auto padded = at::zeros({heads, cellRows * s, n * s}, probs.options());
    padded.narrow(1, 0, rows).narrow(2, 0, keys).copy_(probs);
    auto cells = padded.view({heads, cellRows, s, n, s});
    const int64_t cellRow0 = rowBegin / s;
    sums.narrow(1, cellRow0, cellRows).add_(cells.sum({2, 4}));
    auto blockMax = std::get<0>(std::get<0>(cells.max(4)).max(2));
    auto target = maxes.narrow(1, cellRow0, cellRows);
    target.copy_(at::maximum(target, blockMax));
}

std::vector<float> pyramidMeans(const std::vector<float>& sums, int64_t heads, int64_t tokens, int level) {
    const int64_t s = int64_t(1) << level;
    const int64_t n = pyramidSize(tokens, level);
    std::vector<float> sides(static_cast<size_t>(n), static_cast<float>(s)); // counts of cells are exact in float32
    sides[size_t(n - 1)] = float(tokens - (n - 1) * s);
    std::vector<float> means(sums.size());
    for (int64_t h = 0; h < heads; ++h)
        for (int64_t i = 0; i < n; ++i) {
            const float* sumRow = sums.data() + (h * n + i) * n;
            float* meanRow = means.data() + (h * n + i) * n;
            const float rowSide = sides[size_t(i)];
            for (int64_t j = 0; j < n; ++j)
                meanRow[j] = sumRow[j] / (rowSide * sides[size_t(j)]);
        }
    return means;
}

void coarsenLevel(const std::vector<float>& sums, const std::vector<float>& maxes, int64_t heads, int64_t n,
                  std::vector<float>& coarseSums, std::vector<float>& coarseMaxes) {
    // Plain loops: a level is a few MiB, and ATen's padded 5-D reductions cost more than the arithmetic. Rows are
    // paired first (element-wise, so it vectorises), then neighbouring columns.
    const int64_t m = (n + 1) / 2;
    coarseSums.assign(size_t(heads * m * m), 0.0f);
    coarseMaxes.assign(coarseSums.size(), 0.0f);
    std::vector<float> pairSums(size_t(2 * m), 0.0f), pairMaxes(size_t(2 * m), 0.0f); // the odd edge stays 0
    for (int64_t h = 0; h < heads; ++h)
        for (int64_t i = 0; i < m; ++i) {
            const float* sumTop = sums.data() + (h * n + 2 * i) * n;
            const float* maxTop = maxes.data() + (h * n + 2 * i) * n;
            const bool hasBottom = 2 * i + 1 < n;
            for (int64_t j = 0; j < n; ++j) {
                // Maxima start at zero: probabilities (and the cells' maxima) are >= 0.
                pairSums[size_t(j)] = hasBottom ? sumTop[j] + sumTop[j + n] : sumTop[j];
                pairMaxes[size_t(j)] = hasBottom ? std::max(maxTop[j], maxTop[j + n]) : maxTop[j];
            }
            float* coarseSumRow = coarseSums.data() + (h * m + i) * m;
            float* coarseMaxRow = coarseMaxes.data() + (h * m + i) * m;
            for (int64_t j = 0; j < m; ++j) {
                coarseSumRow[j] = pairSums[size_t(2 * j)] + pairSums[size_t(2 * j + 1)];
                coarseMaxRow[j] = std::max(pairMaxes[size_t(2 * j)], pairMaxes[size_t(2 * j + 1)]);
            }
        }
}

} // namespace attnscope::core

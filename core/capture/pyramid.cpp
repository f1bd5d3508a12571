#include "capture/pyramid.hpp"

#include "store/run_types.hpp"

#include <ATen/ATen.h>

namespace attnscope::core {

std::vector<int> pyramidLevelsFor(int64_t tokens, int64_t maxSide) {
    std::vector<int> levels;
    if (tokens <= 1) return levels;
    int first = 1;
    while (pyramidSize(tokens, first) > maxSide) ++first;
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

at::Tensor pyramidCellCounts(int64_t tokens, int level) {
    const int64_t s = int64_t(1) << level;
    const int64_t n = pyramidSize(tokens, level);
    auto sides = at::full({n}, double(s), at::kDouble);
    sides[n - 1] = double(tokens - (n - 1) * s);
    return at::outer(sides, sides).to(at::kFloat);
}

void coarsenLevel(const at::Tensor& sums, const at::Tensor& maxes, at::Tensor& coarseSums, at::Tensor& coarseMaxes) {
    const int64_t heads = sums.size(0), n = sums.size(1), m = (n + 1) / 2;
    auto pad = [&](const at::Tensor& t) {
        auto p = at::zeros({heads, 2 * m, 2 * m}, t.options());
        p.narrow(1, 0, n).narrow(2, 0, n).copy_(t);
        return p.view({heads, m, 2, m, 2});
    };
    coarseSums = pad(sums).sum({2, 4});
    coarseMaxes = std::get<0>(std::get<0>(pad(maxes).max(4)).max(2));
}

} // namespace attnscope::core

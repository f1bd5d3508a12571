#pragma once
// Multi-resolution attention pyramids. A cell at level l covers a 2^l x 2^l region of [query][key]; its mean is
// over the region's cells that exist (edge cells are partial) and includes the zeros above the causal diagonal.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace attnscope::core {

// Levels to store for T tokens: from the first level whose side is <= maxSide (at least 1) up to side 1.
std::vector<int> pyramidLevelsFor(int64_t tokens, int64_t maxSide);

// Sums and maxima of one block of rows pooled into cells of side 2^level.
// probs [H, B, K] with the block starting at row rowBegin (a multiple of 2^level); keys beyond K count as zero.
// Adds into sums [H, n, n] and maxes [H, n, n] (float32, n = ceil(T / 2^level)).
void poolBlockIntoLevel(const at::Tensor& probs, int64_t rowBegin, int64_t tokens, int level, at::Tensor& sums,
                        at::Tensor& maxes);

// Means of a level's cells: sums [heads][n][n] divided by the number of existing cells in each (edge cells are
// partial), in float32 as the sums are.
std::vector<float> pyramidMeans(const std::vector<float>& sums, int64_t heads, int64_t tokens, int level);

// The next level up from sums/maxes [heads][n][n] (host memory): 2x2 sums and maxima into [heads][m][m],
// m = ceil(n / 2); the missing half of an odd edge counts as zeros.
void coarsenLevel(const std::vector<float>& sums, const std::vector<float>& maxes, int64_t heads, int64_t n,
                  std::vector<float>& coarseSums, std::vector<float>& coarseMaxes);

} // namespace attnscope::core

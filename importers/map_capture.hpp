#pragma once
// What a capture stores for one layer (docs/run-format.md /stats and /attention/pyramid*), computed from full
// attention maps instead of a forward pass, without torch: column sums, alpha, row entropy, first-key mass, argmax,
// and block means/maxima at the given pyramid levels. No Q/K: lse, q, k stay empty.
#include "store/run_types.hpp"

#include <cstdint>
#include <vector>

namespace attnscope::importers {

// The capture's rule (capture/pyramid.hpp pyramidLevelsFor, which is built with ATen): from the first level whose
// side is <= maxSide up to side 1; none for one token.
std::vector<int> importPyramidLevels(int64_t tokens, int64_t maxSide = 512);

// maps: [H][T][T] float32, zeros above the diagonal. valueNorm is [kvHeads][T] of NaN: an import has no values.
core::LayerCapture captureFromMaps(const float* maps, int64_t heads, int64_t tokens, int64_t kvHeads,
                                   const std::vector<int>& levels);

} // namespace attnscope::importers

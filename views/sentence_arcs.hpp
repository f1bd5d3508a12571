#pragma once
// Pure geometry of the sentence view: which sentence-to-sentence links to draw (the strongest of an N x N matrix,
// row = attending sentence, column = attended one), the mean matrix of some heads, sentence blocks laid out as wrapped
// text, and each link as a cubic Bezier arc over the blocks (width and alpha by weight). Pixels; no ImGui.
#include "head_grid_layout.hpp"

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace attnscope::views {

struct SentenceLink {
    int64_t from = 0, to = 0; // sentence `from` attends to the earlier sentence `to`
    float weight = 0;
    bool operator==(const SentenceLink&) const = default;
};

// The topN links of matrix [n][n] with from - to >= minDistance (1: no self-links, only earlier sentences), by weight
// descending, ties by (from, to); NaN and non-positive weights never; only links from `source` when source >= 0.
std::vector<SentenceLink> strongestLinks(std::span<const float> matrix, int64_t n, int64_t topN,
                                         int64_t minDistance = 1, int64_t source = -1);

// Mean over `heads` (layer, head) of matrices [L][H][n][n], NaN ignored (NaN where every head is NaN); [n][n]; empty
// when no head is inside the range.
std::vector<float> meanHeadMatrix(std::span<const float> matrices, int64_t layers, int64_t heads, int64_t n,
                                  std::span<const std::pair<int64_t, int64_t>> picked);

// Blocks of the given sizes (width, height) placed left to right, wrapping at `width`, rows gapY apart (room for the
// arcs), blocks gapX apart; the first row's top at `top`. A block wider than the width is clipped to it.
std::vector<GridRect> flowBlocks(std::span<const std::pair<float, float>> sizes, float width, float gapX, float gapY,
                                 float top = 0);

struct ArcPoint {
    float x = 0, y = 0;
};

struct SentenceArc {
    int64_t from = 0, to = 0;
    ArcPoint p0, c0, c1, p1; // cubic Bezier from the attending block's top to the attended block's top
    float thickness = 1, alpha = 1;
};

struct ArcStyle {
    float minThickness = 1, maxThickness = 6;
    float minAlpha = 0.2f, maxAlpha = 0.9f;
    float liftPerPixel = 0.3f;         // control points rise this much per pixel of horizontal distance...
    float minLift = 12, maxLift = 120; // ...within these bounds (the curve's peak is 3/4 of the lift)
};

// One arc per link whose blocks exist, weight scaled by the largest link's (the strongest is maxThickness/maxAlpha).
// Endpoints sit on the blocks' top edges, spread apart by a few pixels so that arcs into one block do not overlap.
std::vector<SentenceArc> sentenceArcs(std::span<const SentenceLink> links, std::span<const GridRect> blocks,
                                      const ArcStyle& style = {});

// The point of the arc at t in [0, 1].
ArcPoint arcPoint(const SentenceArc& arc, float t);

} // namespace attnscope::views

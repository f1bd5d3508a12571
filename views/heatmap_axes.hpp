#pragma once
// What the heatmap draws around and over its cells with ImDrawList: token labels or index ticks along the axes, the
// selected token's row and column, the box being dragged, and token pieces made printable. UI thread only.
#include "heatmap_camera.hpp"
#include "heatmap_canvas.hpp"

#include <imgui.h>

#include <cstdint>
#include <string>
#include <vector>

namespace attnscope::views {

inline constexpr float kAxisLeftPx = 64.0f; // room for query labels left of the cells
inline constexpr float kAxisTopPx = 18.0f;  // room for key labels above the cells

// A token piece as one short line: control characters escaped ("\n" -> "\\n"), at most maxChars characters.
std::string printablePiece(const std::string& piece, size_t maxChars = 16);
// 1, 2 or 5 times a power of ten, at least `atLeast`.
double niceStep(double atLeast);
// Labels along the left (queries) and top (keys) of `cells` (the screen rectangle the camera's viewport maps to):
// token pieces when a token is tall/wide enough for text, otherwise token indices at a readable step.
void drawHeatmapAxes(ImDrawList* draw, const HeatmapCamera& camera, ImVec2 cellsMin, ImVec2 cellsMax,
                     const std::vector<std::string>& pieces);
// Outlines query row `token` and key column `token` (at least one pixel wide), clipped to the cells.
void drawSelectedToken(ImDrawList* draw, const HeatmapCamera& camera, ImVec2 cellsMin, ImVec2 cellsMax,
                       int64_t token);
// A vertical colour bar in [lo, hi] (top = vmax) with five labelled ticks; the labels go right of the bar.
void drawColourBar(ImDrawList* draw, ImVec2 lo, ImVec2 hi, const HeatmapColourRange& range);

} // namespace attnscope::views

#pragma once
// The Compare view as a figure: two runs of one head as B - A on the diverging map (a HeatmapData with difference
// set, painted by paintHeatmap), or side by side with one shared colour range. Thread: the caller's; painting needs a
// QGuiApplication (ensureFigureApplication()).
#include "figure_heatmap.hpp"

namespace attnscope::figure {

// B - A of the spec's head and range, cell by cell at the pyramid level loadHeatmap picks; colour range
// ±max|B - A| unless spec.clipMax (the scale is not used). Throws core::ArgumentError (one sentence naming both
// files) when the runs differ in layers, heads or tokens.
HeatmapData loadHeatmapDifference(core::RunReader& a, core::RunReader& b, const HeatmapSpec& spec);

struct HeatmapPair {
    HeatmapData a, b; // the same vmax (and log floor): one colour range for both
};

// Both runs' cells of the spec's head and range (each run's range cut at its own length, as the shared camera shows
// it); the colour range is the larger maximum unless spec.clipMax.
HeatmapPair loadHeatmapPair(core::RunReader& a, core::RunReader& b, const HeatmapSpec& spec);
QSizeF heatmapPairFigureSize(const HeatmapPair& pair);
// Where B's figure starts (A's is at 0, 0), in logical pixels.
QPointF heatmapPairOffset(const HeatmapPair& pair);
void paintHeatmapPair(QPainter& painter, const HeatmapPair& pair);

} // namespace attnscope::figure

#pragma once
// One head's attention as a paper figure: cells from reader tiles at the coarsest pyramid level that keeps cells
// >= 1 px, token labels where they fit (font sizes in px), a colour bar with ticks and an optional clipping maximum.
// The same figure shows a difference B - A of two runs on the diverging map (figure_compare.hpp makes its data).
// Thread: the caller's (RunReader is one per thread); painting needs a QGuiApplication (ensureFigureApplication()).
#include "colormap_path.hpp"

#include <QtCore/QRectF>
#include <QtCore/QSizeF>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

class QPainter;

namespace attnscope::core {
class RunReader;
}

namespace attnscope::figure {

enum class HeatmapScale { Linear, Log, Row };

// "linear", "log" or "row"; throws core::ArgumentError naming the value otherwise.
HeatmapScale heatmapScaleFromName(const std::string& name);

struct HeatmapSpec {
    int64_t layer = 0, head = 0;
    int64_t q0 = 0, q1 = -1, k0 = 0, k1 = -1; // half-open token range of queries and keys; -1: up to the last token
    views::Colormap colormap = views::Colormap::Viridis;
    HeatmapScale scale = HeatmapScale::Linear; // Row: each query row divided by its own maximum
    double clipMax = 0.0;                      // colour-bar maximum (values above it get the top colour); 0: data max
    double plotPx = 640.0;                     // the longer side of the cell area, in logical pixels
    bool cellMax = false; // at coarse levels, colour a cell by its largest weight instead of the mean (sinks, peaks)
};

struct HeatmapData {
    HeatmapSpec spec;    // with q1/k1 resolved
    std::string runName; // file name of the run, for the title
    int level = 0;       // pyramid level the cells come from (cell = 2^level x 2^level tokens)
    int64_t rows = 0, cols = 0;
    std::vector<float> values;   // [rows][cols] attention (mean over the cell's tokens)
    std::vector<uint8_t> masked; // [rows][cols] 1 where every key of the cell is after every query (causal mask)
    std::vector<std::string> rowLabels, colLabels; // per cell; empty strings where no label is drawn
    double vmax = 1.0;                             // top of the colour bar
    double vmin = 0.0;                             // bottom of the colour bar (the log floor for Log)
    bool clipped = false;                          // some value is above vmax
    // A difference B - A (values may be negative): diverging colours over -vmax..vmax, scale and colormap unused.
    bool difference = false;
    std::string minusName; // the difference's run A (runName is B)
};

// Throws core::ArgumentError (one sentence naming the run and its range) for a layer or head the run does not have.
void checkLayerHead(core::RunReader& run, int64_t layer, int64_t head);
// Reads the cells. Throws core::ArgumentError (one sentence naming the run) for a layer, head or range outside it.
HeatmapData loadHeatmap(core::RunReader& run, const HeatmapSpec& spec);
// Colour-bar position in [0, 1] of a value, after the spec's scale (and the row maximum for Row); for a difference
// 0.5 + v / (2 vmax), as the screen's scaleDiff.
double heatmapPosition(const HeatmapData& data, double value, double rowMax);

QSizeF heatmapFigureSize(const HeatmapData& data);
// Where the cells are drawn, in logical pixels: cell (i, j) is the (i, j)-th of rows x cols equal squares.
QRectF heatmapPlotRect(const HeatmapData& data);
void paintHeatmap(QPainter& painter, const HeatmapData& data);
// The 8-bit colour of colour-bar position t: the spec's colormap, or the diverging map for a difference.
std::array<int, 3> heatmapColour(const HeatmapData& data, double t);

} // namespace attnscope::figure

#pragma once
// The layer x head grid of one per-head metric ([L,H] dataset of an /analysis result, or a statistic's mean over
// queries) as a paper figure: rows are layers (0 on top), columns heads, a colour bar as the legend.
// Thread: the caller's; painting needs a QGuiApplication (ensureFigureApplication()).
#include "colormap_path.hpp"

#include <QtCore/QSizeF>

#include <cstdint>
#include <string>
#include <vector>

class QPainter;

namespace attnscope::core {
class RunReader;
}

namespace attnscope::figure {

struct HeadGridData {
    std::string runName, metric; // metric as resolved: "ANALYSIS/DATASET" or "stats/NAME"
    int64_t layers = 0, heads = 0;
    std::vector<double> values; // [layer][head]; NaN where the metric has no value
    views::Colormap colormap = views::Colormap::Viridis;
    double vmin = 0, vmax = 1; // colour-bar range
    bool clipped = false;      // some value is above vmax (clipMax given)
    std::string title;         // empty: "RUN · METRIC per head"
    bool numbers = false;      // each cell's value written in it (larger cells)
};

// Every metric a grid can show for this run: "ANALYSIS/DATASET" for each numeric [L,H] dataset under /analysis, then
// "stats/entropy" and "stats/first_mass" when the run has per-query statistics.
std::vector<std::string> headGridMetrics(core::RunReader& run);
// metric: "ANALYSIS/DATASET", a DATASET name (the first analysis holding it), an ANALYSIS name (its first [L,H]
// dataset) or a statistic ("entropy", "first_mass"). Throws core::ArgumentError naming the run and the metrics it has.
HeadGridData loadHeadGrid(core::RunReader& run, const std::string& metric, views::Colormap colormap,
                          double clipMax = 0.0);

QSizeF headGridFigureSize(const HeadGridData& data);
void paintHeadGrid(QPainter& painter, const HeadGridData& data);

} // namespace attnscope::figure

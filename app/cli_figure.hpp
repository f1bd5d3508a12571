#pragma once
// `attnscope-cli figure`'s pieces shared by its files: the parsed options and one writer per figure kind.
#include "colormap_path.hpp"

#include <cstdint>
#include <string>

namespace attnscope::core {
class RunReader;
}

namespace attnscope::app {

struct FigureArgs {
    std::string run, view, out, range, metric, colormap = "viridis", scale = "linear", format = "png", reduce = "mean";
    std::string retrieval; // a `retrieval --out PREFIX` JSON for --view retrieval and --all
    std::string score;     // sentences: the published per-sentence field beside the rows
    std::string minus;     // heatmap: draw run - minus (the Compare view's B - A)
    std::string with;      // compare: the second run beside run
    int64_t layer = -1, head = -1, token = -1;
    double clipMax = 0.0, dpi = 96.0, width = 720.0;
    bool all = false;
};

// Throw core::ArgumentError (one sentence) for an unknown colormap or a run without the data a figure needs.
views::Colormap colormapArg(const std::string& name);
void writeHeatmapFigure(core::RunReader& run, const FigureArgs& a, int64_t layer, int64_t head, const std::string& out);
// Side by side: a.run (A) and a.with (B), one colour range (--view compare).
void writeCompareFigure(core::RunReader& run, const FigureArgs& a, int64_t layer, int64_t head, const std::string& out);
void writeGridFigure(core::RunReader& run, const std::string& metric, const FigureArgs& a, const std::string& out);
void writeTextFigure(core::RunReader& run, const FigureArgs& a, int64_t layer, int64_t head, const std::string& out);
void writeSentenceFigure(core::RunReader& run, const FigureArgs& a, const std::string& out);
// The retrieval JSON of a.retrieval, or of a.run when it names a .json file; throws when there is none.
void writeRetrievalFigure(const FigureArgs& a, const std::string& out);
// kind: "ablation" (ablation, else calibration) or "calibration".
void writeAblationFigure(core::RunReader& run, const FigureArgs& a, const std::string& kind, const std::string& out);
// Writes every figure the run has data for into the folder a.out, with index.md.
void writeAllFigures(core::RunReader& run, const FigureArgs& a);

} // namespace attnscope::app

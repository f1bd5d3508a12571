#include "gui_figure_export.hpp"

#include "cli_figure.hpp"
#include "errors.hpp"
#include "figure_ablation.hpp"
#include "figure_head_grid.hpp"
#include "figure_writer.hpp"
#include "store/run_reader.hpp"

#include <QtGui/QPainter>

#include <cmath>
#include <limits>

namespace attnscope::app {

namespace {

// A grid computed in the session (a sweep filling in): the figure's grid with the values as given.
void writeLiveGrid(const views::FigureRequest& r, const FigureArgs& a) {
    const auto& live = r.live;
    if (live.layers * live.heads != int64_t(live.grid.size()) || live.grid.empty())
        throw core::ArgumentError("Cannot export the grid of '" + r.metric + "': it has no values yet.");
    figure::HeadGridData d;
    d.runName = r.run.filename().string();
    d.metric = r.metric;
    d.title = live.title;
    d.layers = live.layers, d.heads = live.heads;
    d.values = live.grid;
    d.colormap = colormapArg(a.colormap);
    d.vmin = std::numeric_limits<double>::infinity(), d.vmax = -d.vmin;
    for (double v : d.values)
        if (std::isfinite(v)) d.vmin = std::min(d.vmin, v), d.vmax = std::max(d.vmax, v);
    if (!(d.vmin <= d.vmax)) d.vmin = 0, d.vmax = 1;
    if (d.vmax == d.vmin) d.vmax = d.vmin + 1;
    figure::writeFigure(a.out, {figure::headGridFigureSize(d), a.dpi},
                        [&](QPainter& p) { figure::paintHeadGrid(p, d); });
}

// A panel's before/after (an ablation preview, a calibration re-run) as the ablation figure draws stored results.
void writeLiveBars(const views::FigureRequest& r, const FigureArgs& a) {
    figure::AblationFigureData d;
    d.spec.kind = r.view == "calibration" ? figure::ExperimentKind::Calibration : figure::ExperimentKind::Ablation;
    d.runName = r.run.filename().string();
    d.title = r.live.title;
    for (const auto& b : r.live.bars)
        d.bars.push_back({b.name, b.before, b.after});
    d.facts = r.live.facts;
    figure::writeFigure(a.out, {figure::ablationFigureSize(d), a.dpi},
                        [&](QPainter& p) { figure::paintAblationFigure(p, d); });
}

} // namespace

views::FigureExporter makeFigureExporter() {
    figure::ensureFigureApplication();
    return [](const views::FigureRequest& r, const std::filesystem::path& out, double dpi) {
        FigureArgs a;
        a.run = r.run.string();
        a.view = r.view;
        a.out = out.string();
        a.range = r.range;
        a.metric = r.metric;
        a.colormap = r.colormap;
        a.scale = r.scale;
        a.reduce = r.reduce;
        a.clipMax = r.clipMax;
        a.minus = r.minus.string();
        a.with = r.with.string();
        a.dpi = dpi;
        a.layer = r.layer, a.head = r.head, a.token = r.token;
        if (r.view == "grid" && !r.live.grid.empty()) return writeLiveGrid(r, a);
        if ((r.view == "ablation" || r.view == "calibration") && !r.live.bars.empty()) return writeLiveBars(r, a);
        core::RunReader run(r.run);
        if (r.view == "heatmap")
            writeHeatmapFigure(run, a, r.layer, r.head, a.out);
        else if (r.view == "compare")
            writeCompareFigure(run, a, r.layer, r.head, a.out);
        else if (r.view == "grid")
            writeGridFigure(run, r.metric, a, a.out);
        else if (r.view == "text")
            writeTextFigure(run, a, r.layer, r.head, a.out);
        else if (r.view == "sentences")
            writeSentenceFigure(run, a, a.out);
        else
            throw core::ArgumentError("Cannot export a '" + r.view + "' view as a figure.");
    };
}

} // namespace attnscope::app

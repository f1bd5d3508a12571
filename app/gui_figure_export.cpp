#include "gui_figure_export.hpp"

#include "cli_figure.hpp"
#include "errors.hpp"
#include "figure_writer.hpp"
#include "store/run_reader.hpp"

namespace attnscope::app {

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
        a.dpi = dpi;
        a.layer = r.layer, a.head = r.head, a.token = r.token;
        core::RunReader run(r.run);
        if (r.view == "heatmap")
            writeHeatmapFigure(run, a, r.layer, r.head, a.out);
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

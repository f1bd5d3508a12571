// The writers of `attnscope-cli figure`: options -> a figure's spec -> loadX, xFigureSize, paintX -> writeFigure.
#include "cli_figure.hpp"

#include "errors.hpp"
#include "figure_ablation.hpp"
#include "figure_compare.hpp"
#include "figure_head_grid.hpp"
#include "figure_heatmap.hpp"
#include "figure_retrieval.hpp"
#include "figure_sentences.hpp"
#include "figure_text_view.hpp"
#include "figure_writer.hpp"
#include "run_export.hpp"
#include "store/run_reader.hpp"

#include <QtGui/QPainter>

#include <filesystem>

namespace attnscope::app {

views::Colormap colormapArg(const std::string& name) {
    if (auto map = views::colormapFromName(name)) return *map;
    throw core::ArgumentError("Unknown colormap '" + name + "': use viridis, magma, inferno, plasma or gray.");
}

namespace {

figure::HeatmapSpec heatmapSpec(const FigureArgs& a, int64_t layer, int64_t head) {
    figure::HeatmapSpec s;
    s.layer = layer;
    s.head = head;
    if (!a.range.empty()) {
        const importers::CellRange r = importers::parseCellRange(a.range);
        s.q0 = r.q0, s.q1 = r.q1, s.k0 = r.k0, s.k1 = r.k1;
    }
    s.colormap = colormapArg(a.colormap);
    s.scale = figure::heatmapScaleFromName(a.scale);
    s.clipMax = a.clipMax;
    s.cellMax = a.reduce == "max";
    return s;
}

} // namespace

void writeHeatmapFigure(core::RunReader& run, const FigureArgs& a, int64_t layer, int64_t head,
                        const std::string& out) {
    const figure::HeatmapSpec s = heatmapSpec(a, layer, head);
    figure::HeatmapData data;
    if (a.minus.empty()) {
        data = figure::loadHeatmap(run, s);
    } else {
        core::RunReader minus(a.minus);
        data = figure::loadHeatmapDifference(minus, run, s);
    }
    figure::writeFigure(out, {figure::heatmapFigureSize(data), a.dpi},
                        [&](QPainter& p) { figure::paintHeatmap(p, data); });
}

void writeCompareFigure(core::RunReader& run, const FigureArgs& a, int64_t layer, int64_t head,
                        const std::string& out) {
    if (a.with.empty())
        throw core::ArgumentError("A comparison of run file '" + a.run + "' needs the second run: --with RUN2.");
    core::RunReader second(a.with);
    const figure::HeatmapPair pair = figure::loadHeatmapPair(run, second, heatmapSpec(a, layer, head));
    figure::writeFigure(out, {figure::heatmapPairFigureSize(pair), a.dpi},
                        [&](QPainter& p) { figure::paintHeatmapPair(p, pair); });
}

void writeGridFigure(core::RunReader& run, const std::string& metric, const FigureArgs& a, const std::string& out) {
    const figure::HeadGridData data = figure::loadHeadGrid(run, metric, colormapArg(a.colormap), a.clipMax);
    figure::writeFigure(out, {figure::headGridFigureSize(data), a.dpi},
                        [&](QPainter& p) { figure::paintHeadGrid(p, data); });
}

namespace {

// "t0:t1" (either end may be left out) as the text view's token window.
void parseTokenWindow(const std::string& range, figure::TextFigureSpec& s) {
    const auto colon = range.find(':');
    auto number = [&](const std::string& part, int64_t fallback) {
        if (part.empty()) return fallback;
        size_t used = 0;
        int64_t v = -1;
        try {
            v = std::stoll(part, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != part.size() || v < 0)
            throw core::ArgumentError("The text view's --range '" + range + "' is not t0:t1 (token indices).");
        return v;
    };
    if (colon == std::string::npos || range.find(':', colon + 1) != std::string::npos)
        throw core::ArgumentError("The text view's --range '" + range + "' is not t0:t1 (token indices).");
    s.t0 = number(range.substr(0, colon), 0);
    s.t1 = number(range.substr(colon + 1), -1);
}

} // namespace

void writeTextFigure(core::RunReader& run, const FigureArgs& a, int64_t layer, int64_t head, const std::string& out) {
    figure::TextFigureSpec s;
    s.layer = layer;
    s.head = head;
    s.query = a.token;
    s.metric = a.metric == "attention" ? std::string() : a.metric;
    if (!a.range.empty()) parseTokenWindow(a.range, s);
    s.colormap = colormapArg(a.colormap);
    s.clipMax = a.clipMax;
    s.widthPx = a.width;
    const figure::TextFigureData data = figure::loadTextFigure(run, s);
    figure::writeFigure(out, {figure::textFigureSize(data), a.dpi},
                        [&](QPainter& p) { figure::paintTextFigure(p, data); });
}

void writeSentenceFigure(core::RunReader& run, const FigureArgs& a, const std::string& out) {
    figure::SentenceFigureSpec s;
    s.matrix = figure::sentenceMatrixFromName(a.metric);
    s.layer = a.layer;
    s.head = a.head;
    s.score = a.score;
    s.colormap = colormapArg(a.colormap);
    s.clipMax = a.clipMax;
    const figure::SentenceFigureData data = figure::loadSentenceFigure(run, s);
    figure::writeFigure(out, {figure::sentenceFigureSize(data), a.dpi},
                        [&](QPainter& p) { figure::paintSentenceFigure(p, data); });
}

void writeRetrievalFigure(const FigureArgs& a, const std::string& out) {
    std::string file = a.retrieval;
    if (file.empty() && std::filesystem::path(a.run).extension() == ".json") file = a.run;
    if (file.empty())
        throw core::ArgumentError("Run file '" + a.run +
                                  "' holds no needle-in-a-haystack results: give the "
                                  "PREFIX.json of `attnscope-cli retrieval --out PREFIX` as the file or with "
                                  "--retrieval.");
    figure::RetrievalFigureSpec s;
    s.measure = figure::retrievalMeasureFromName(a.metric);
    const figure::RetrievalFigureData data = figure::loadRetrievalFigure(file, s);
    figure::writeFigure(out, {figure::retrievalFigureSize(data), a.dpi},
                        [&](QPainter& p) { figure::paintRetrievalFigure(p, data); });
}

void writeAblationFigure(core::RunReader& run, const FigureArgs& a, const std::string& kind, const std::string& out) {
    figure::AblationFigureSpec s;
    s.kind = kind == "calibration" ? figure::ExperimentKind::Calibration : figure::ExperimentKind::Auto;
    if (!a.metric.empty()) s.metric = a.metric;
    s.colormap = colormapArg(a.colormap);
    const figure::AblationFigureData data = figure::loadAblationFigure(run, s);
    figure::writeFigure(out, {figure::ablationFigureSize(data), a.dpi},
                        [&](QPainter& p) { figure::paintAblationFigure(p, data); });
}

} // namespace attnscope::app

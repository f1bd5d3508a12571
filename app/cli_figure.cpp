// `attnscope-cli figure RUN --view heatmap|grid ... --out FILE.{png,svg,pdf}` and `figure RUN --all --out DIR`:
// paper figures rendered headless by views/figure (Qt, platform "offscreen").
#include "cli_common.hpp"

#include "errors.hpp"
#include "figure_head_grid.hpp"
#include "figure_heatmap.hpp"
#include "figure_writer.hpp"
#include "run_export.hpp"
#include "store/run_reader.hpp"

#include <fmt/core.h>

#include <QtGui/QPainter>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>

namespace attnscope::app {

namespace {

struct FigureArgs {
    std::string run, view, out, range, metric, colormap = "viridis", scale = "linear", format = "png", reduce = "mean";
    int64_t layer = -1, head = -1;
    double clipMax = 0.0, dpi = 96.0;
    bool all = false;
};

views::Colormap colormapArg(const std::string& name) {
    if (auto map = views::colormapFromName(name)) return *map;
    throw core::ArgumentError("Unknown colormap '" + name + "': use viridis, magma, inferno, plasma or gray.");
}

void checkOutExtension(const std::string& out) {
    const std::string ext = std::filesystem::path(out).extension().string();
    if (ext != ".png" && ext != ".svg" && ext != ".pdf")
        throw core::ArgumentError("Cannot write figure '" + out + "': use a .png, .svg or .pdf name.");
}

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

void writeHeatmap(core::RunReader& run, const figure::HeatmapSpec& spec, const std::string& out, double dpi) {
    const figure::HeatmapData data = figure::loadHeatmap(run, spec);
    figure::writeFigure(out, {figure::heatmapFigureSize(data), dpi},
                        [&](QPainter& p) { figure::paintHeatmap(p, data); });
}

void writeGrid(core::RunReader& run, const std::string& metric, const FigureArgs& a, const std::string& out) {
    const figure::HeadGridData data = figure::loadHeadGrid(run, metric, colormapArg(a.colormap), a.clipMax);
    figure::writeFigure(out, {figure::headGridFigureSize(data), a.dpi},
                        [&](QPainter& p) { figure::paintHeadGrid(p, data); });
}

std::string fileStem(std::string s) {
    for (char& c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
    return s;
}

// Heads shown by --all: every head of small models; for larger ones each layer's most focused head (lowest mean
// entropy), so that the set stays at one heatmap per layer.
std::vector<std::pair<int64_t, int64_t>> heatmapHeads(core::RunReader& run) {
    const int64_t L = run.model().nLayers, H = run.model().nHeads;
    std::vector<std::pair<int64_t, int64_t>> heads;
    const bool stats = run.summary().stats;
    for (int64_t l = 0; l < L; ++l) {
        if (L * H <= 32 || !stats) {
            for (int64_t h = 0; h < (L * H <= 32 ? H : 1); ++h)
                heads.emplace_back(l, h);
            continue;
        }
        const std::vector<float> e = run.layerStat("entropy", l);
        const int64_t T = int64_t(e.size()) / H;
        int64_t best = 0;
        double bestMean = std::numeric_limits<double>::infinity();
        for (int64_t h = 0; h < H; ++h) {
            double sum = 0;
            for (int64_t t = 0; t < T; ++t)
                sum += e[size_t(h * T + t)];
            if (sum / double(std::max<int64_t>(T, 1)) < bestMean)
                bestMean = sum / double(std::max<int64_t>(T, 1)), best = h;
        }
        heads.emplace_back(l, best);
    }
    return heads;
}

void writeAll(core::RunReader& run, const FigureArgs& a) {
    if (a.format != "png" && a.format != "svg" && a.format != "pdf")
        throw core::ArgumentError("Unknown figure format '" + a.format + "': use png, svg or pdf.");
    const std::filesystem::path dir(a.out);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec || !std::filesystem::is_directory(dir))
        throw core::FileError("Cannot create the figure folder '" + a.out + "'.");
    std::string index = "# Figures of " + run.path().filename().string() + "\n\n" +
                        std::to_string(run.model().nLayers) + " layers x " + std::to_string(run.model().nHeads) +
                        " heads, " + std::to_string(run.layout().tokens) +
                        " tokens. Written by `attnscope-cli figure --all`.\n\n";
    int written = 0;
    const std::vector<std::string> metrics = figure::headGridMetrics(run);
    if (!metrics.empty()) index += "## Per-head metrics (layer x head)\n\n";
    for (const auto& metric : metrics) {
        const std::string name = "grid_" + fileStem(metric) + "." + a.format;
        writeGrid(run, metric, a, (dir / name).string());
        index += "### " + metric + "\n\n" + (a.format == "pdf" ? "" : "!") + "[" + metric + "](" + name + ")\n\n";
        ++written;
    }
    index += "## Attention heatmaps\n\n";
    for (const auto& [layer, head] : heatmapHeads(run)) {
        const std::string name = "heatmap_L" + std::to_string(layer) + "_H" + std::to_string(head) + "." + a.format;
        writeHeatmap(run, heatmapSpec(a, layer, head), (dir / name).string(), a.dpi);
        // Markdown viewers show PNG and SVG inline; a PDF is linked.
        index += "### Layer " + std::to_string(layer) + ", head " + std::to_string(head) + "\n\n" +
                 (a.format == "pdf" ? "" : "!") + "[layer " + std::to_string(layer) + " head " + std::to_string(head) +
                 "](" + name + ")\n\n";
        ++written;
    }
    const auto indexPath = dir / "index.md";
    std::ofstream(indexPath, std::ios::binary | std::ios::trunc) << index;
    if (!std::filesystem::exists(indexPath)) throw core::FileError("Cannot write '" + indexPath.string() + "'.");
    fmt::print("wrote {} figures and {}\n", written, indexPath.string());
}

} // namespace

void addFigureCommand(CLI::App& app) {
    auto* cmd = app.add_subcommand("figure", "Render a paper figure of a run (heatmap of a head, layer x head grid of "
                                             "a metric) to PNG, SVG or PDF, or a whole figure set with --all");
    auto a = std::make_shared<FigureArgs>();
    cmd->add_option("RUN", a->run, "run file (.attn.h5)")->required();
    cmd->add_option("--view", a->view, "heatmap (one head's attention) or grid (layer x head of --metric)");
    cmd->add_option("--layer", a->layer, "layer of the heatmap");
    cmd->add_option("--head", a->head, "head of the heatmap");
    cmd->add_option("--range", a->range, "q0:q1,k0:k1 half-open token range of the heatmap (default: everything)");
    cmd->add_option("--metric", a->metric, "grid metric: ANALYSIS/DATASET, DATASET, ANALYSIS or entropy, first_mass");
    cmd->add_option("--colormap", a->colormap, "viridis, magma, inferno, plasma or gray")->capture_default_str();
    cmd->add_option("--scale", a->scale, "heatmap colour scale: linear, log or row (each row by its maximum)")
        ->capture_default_str();
    cmd->add_option("--clip-max", a->clipMax, "top of the colour bar; larger values get the top colour (0: data max)")
        ->capture_default_str();
    cmd->add_option("--reduce", a->reduce, "heatmap cells of many tokens (long runs): mean or max of their weights")
        ->check(CLI::IsMember({"mean", "max"}))
        ->capture_default_str();
    cmd->add_option("--dpi", a->dpi, "PNG resolution (96: one pixel per logical pixel)")->capture_default_str();
    cmd->add_flag("--all", a->all, "write every grid and heatmaps of the run into the folder --out, with index.md");
    cmd->add_option("--format", a->format, "file format of the figures of --all: png, svg or pdf")
        ->capture_default_str();
    cmd->add_option("--out", a->out, "figure file (.png, .svg, .pdf), or the folder for --all")->required();
    cmd->callback([a] {
        if (!(a->dpi >= 10 && a->dpi <= 2400))
            throw core::ArgumentError("The PNG resolution --dpi must be between 10 and 2400, not " +
                                      fmt::format("{}", a->dpi) + ".");
        if (!(a->clipMax >= 0))
            throw core::ArgumentError("The colour-bar maximum --clip-max must be positive, not " +
                                      fmt::format("{}", a->clipMax) + ".");
        colormapArg(a->colormap);
        figure::heatmapScaleFromName(a->scale);
        if (a->all) {
            if (!a->view.empty()) throw core::ArgumentError("Use either --all or --view, not both.");
            core::RunReader run(a->run);
            writeAll(run, *a);
            return;
        }
        if (a->view != "heatmap" && a->view != "grid")
            throw core::ArgumentError(a->view.empty() ? std::string("Name a figure with --view heatmap or --view grid, "
                                                                    "or write them all with --all.")
                                                      : "Unknown figure view '" + a->view + "': use heatmap or grid.");
        checkOutExtension(a->out);
        core::RunReader run(a->run);
        if (a->view == "heatmap") {
            if (a->layer < 0 || a->head < 0)
                throw core::ArgumentError("A heatmap of run file '" + a->run + "' needs --layer and --head.");
            writeHeatmap(run, heatmapSpec(*a, a->layer, a->head), a->out, a->dpi);
        } else {
            writeGrid(run, a->metric.empty() ? std::string("entropy") : a->metric, *a, a->out);
        }
        fmt::print("wrote {} ({} of {})\n", a->out, a->view, a->run);
    });
}

} // namespace attnscope::app

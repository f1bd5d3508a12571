// `attnscope-cli figure RUN --view heatmap|compare|grid|text|sentences|retrieval|ablation|calibration ... --out
// FILE.{png,svg,pdf}` and `figure RUN --all --out DIR`: paper figures rendered headless by views/figure (Qt, platform
// "offscreen"). Two runs: `--view heatmap --minus RUN2` (difference), `--view compare --with RUN2` (side by side).
#include "cli_figure.hpp"
#include "cli_common.hpp"

#include "errors.hpp"
#include "figure_heatmap.hpp"
#include "store/run_reader.hpp"

#include <fmt/core.h>

#include <filesystem>

namespace attnscope::app {

namespace {

constexpr const char* kViews = "heatmap, compare, grid, text, sentences, retrieval, ablation or calibration";

void checkOutExtension(const std::string& out) {
    const std::string ext = std::filesystem::path(out).extension().string();
    if (ext != ".png" && ext != ".svg" && ext != ".pdf")
        throw core::ArgumentError("Cannot write figure '" + out + "': use a .png, .svg or .pdf name.");
}

void requireHead(const FigureArgs& a, const char* what) {
    if (a.layer < 0 || a.head < 0)
        throw core::ArgumentError(std::string("A ") + what + " of run file '" + a.run + "' needs --layer and --head.");
}

void writeOne(const FigureArgs& a) {
    const std::string& v = a.view;
    if (v != "heatmap" && v != "compare" && v != "grid" && v != "text" && v != "sentences" && v != "retrieval" &&
        v != "ablation" && v != "calibration")
        throw core::ArgumentError(
            v.empty() ? fmt::format("Name a figure with --view ({}), or write them all with --all.", kViews)
                      : fmt::format("Unknown figure view '{}': use {}.", v, kViews));
    checkOutExtension(a.out);
    if (!a.minus.empty() && v != "heatmap")
        throw core::ArgumentError("--minus draws a difference heatmap: use it with --view heatmap, not " + v + ".");
    if (!a.with.empty() && v != "compare")
        throw core::ArgumentError("--with names the second run of --view compare, not of " + v + ".");
    if (v == "retrieval" && (!a.retrieval.empty() || std::filesystem::path(a.run).extension() == ".json")) {
        writeRetrievalFigure(a, a.out); // no run file needed
        return;
    }
    core::RunReader run(a.run);
    if (v == "heatmap") {
        requireHead(a, "heatmap");
        writeHeatmapFigure(run, a, a.layer, a.head, a.out);
    } else if (v == "compare") {
        requireHead(a, "comparison");
        writeCompareFigure(run, a, a.layer, a.head, a.out);
    } else if (v == "grid") {
        writeGridFigure(run, a.metric.empty() ? std::string("entropy") : a.metric, a, a.out);
    } else if (v == "text") {
        requireHead(a, "text view");
        writeTextFigure(run, a, a.layer, a.head, a.out);
    } else if (v == "sentences") {
        writeSentenceFigure(run, a, a.out);
    } else if (v == "ablation" || v == "calibration") {
        writeAblationFigure(run, a, v, a.out);
    } else {
        writeRetrievalFigure(a, a.out); // says that the run holds none
    }
}

} // namespace

void addFigureCommand(CLI::App& app) {
    auto* cmd = app.add_subcommand("figure", "Render a paper figure of a run (heatmap of a head, layer x head grid of "
                                             "a metric, text view, ...) to PNG, SVG or PDF, or a whole figure set "
                                             "with --all");
    auto a = std::make_shared<FigureArgs>();
    cmd->add_option("RUN", a->run, "run file (.attn.h5); for --view retrieval also the PREFIX.json of `retrieval`")
        ->required();
    cmd->add_option("--view", a->view, std::string(kViews));
    cmd->add_option("--layer", a->layer, "layer of the heatmap, comparison, text view or sentence matrix");
    cmd->add_option("--head", a->head,
                    "head of the heatmap, comparison, text view or sentence matrix (default: receiver heads)");
    cmd->add_option("--minus", a->minus,
                    "heatmap: the difference RUN - RUN2 (the Compare view's B - A with RUN = B, RUN2 = A) on a "
                    "diverging map over +-max|difference| (or --clip-max); same layers, heads and tokens");
    cmd->add_option("--with", a->with, "compare: RUN2 beside RUN (A left, B right) with one shared colour range");
    cmd->add_option("--token", a->token, "text view: the attending token (default: the last)");
    cmd->add_option(
        "--range", a->range,
        "heatmap, compare: q0:q1,k0:k1 half-open token range; text view: t0:t1 (default: everything, or the 512 "
        "tokens up to --token)");
    cmd->add_option(
        "--metric", a->metric,
        "grid: ANALYSIS/DATASET, DATASET, ANALYSIS or entropy, first_mass; text view: shade by entropy, "
        "first_mass, received or alpha instead of attention; sentences: attention (default), suppression or "
        "published; retrieval: recall (default) or kept; ablation sweep: delta_loss (default), kl, ships or "
        "logit_diff");
    cmd->add_option("--retrieval", a->retrieval,
                    "retrieval: the PREFIX.json that `attnscope-cli retrieval --out PREFIX` writes (also for --all)");
    cmd->add_option("--score", a->score,
                    "sentences: the published per-sentence score beside the rows (default "
                    "counterfactual_importance_kl)");
    cmd->add_option("--colormap", a->colormap, "viridis, magma, inferno, plasma or gray")->capture_default_str();
    cmd->add_option("--scale", a->scale, "heatmap colour scale: linear, log or row (each row by its maximum)")
        ->capture_default_str();
    cmd->add_option("--clip-max", a->clipMax, "top of the colour bar; larger values get the top colour (0: data max)")
        ->capture_default_str();
    cmd->add_option("--reduce", a->reduce, "heatmap cells of many tokens (long runs): mean or max of their weights")
        ->check(CLI::IsMember({"mean", "max"}))
        ->capture_default_str();
    cmd->add_option("--width", a->width, "text view: wrap width in pixels")->capture_default_str();
    cmd->add_option("--dpi", a->dpi, "PNG resolution (96: one pixel per logical pixel)")->capture_default_str();
    cmd->add_flag("--all", a->all, "write every figure the run has data for into the folder --out, with index.md");
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
            if (!a->minus.empty() || !a->with.empty())
                throw core::ArgumentError("--minus and --with go with one --view, not with --all.");
            core::RunReader run(a->run);
            writeAllFigures(run, *a);
            return;
        }
        writeOne(*a);
        fmt::print("wrote {} ({} of {})\n", a->out, a->view, a->run);
    });
}

} // namespace attnscope::app

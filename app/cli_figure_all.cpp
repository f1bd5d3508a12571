// `attnscope-cli figure RUN --all --out DIR`: every figure the run has data for, and DIR/index.md showing them.
#include "cli_figure.hpp"

#include "analysis/head_classification.hpp"
#include "errors.hpp"
#include "figure_head_grid.hpp"
#include "store/run_reader.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <limits>

namespace attnscope::app {

namespace {

std::string fileStem(std::string s) {
    for (char& c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
    return s;
}

// The head of `layer` with the lowest mean entropy over queries (head 0 without statistics).
int64_t mostFocusedHead(core::RunReader& run, int64_t layer) {
    if (!run.summary().stats) return 0;
    const int64_t H = run.model().nHeads;
    const std::vector<float> e = run.layerStat("entropy", layer);
    const int64_t T = int64_t(e.size()) / H;
    int64_t best = 0;
    double bestSum = std::numeric_limits<double>::infinity();
    for (int64_t h = 0; h < H; ++h) {
        double sum = 0;
        for (int64_t t = 0; t < T; ++t)
            sum += e[size_t(h * T + t)];
        if (sum < bestSum) bestSum = sum, best = h;
    }
    return best;
}

// Heads shown by --all: every head of small models; for larger ones each layer's most focused head, so that the set
// stays at one heatmap per layer.
std::vector<std::pair<int64_t, int64_t>> heatmapHeads(core::RunReader& run) {
    const int64_t L = run.model().nLayers, H = run.model().nHeads;
    std::vector<std::pair<int64_t, int64_t>> heads;
    for (int64_t l = 0; l < L; ++l) {
        if (L * H <= 32 || !run.summary().stats) {
            for (int64_t h = 0; h < (L * H <= 32 ? H : 1); ++h)
                heads.emplace_back(l, h);
            continue;
        }
        heads.emplace_back(l, mostFocusedHead(run, l));
    }
    return heads;
}

// The last layer's most focused head.
std::pair<int64_t, int64_t> focusedHead(core::RunReader& run) {
    const int64_t last = run.model().nLayers - 1;
    return {last, mostFocusedHead(run, last)};
}

class FigureSet {
public:
    FigureSet(std::filesystem::path dir, std::string format) : m_dir(std::move(dir)), m_format(std::move(format)) {}
    std::string path(const std::string& stem) const { return (m_dir / (stem + "." + m_format)).string(); }
    void section(const std::string& title) { m_index += "## " + title + "\n\n"; }
    // Markdown viewers show PNG and SVG inline; a PDF is linked.
    void add(const std::string& stem, const std::string& title) {
        const std::string name = stem + "." + m_format;
        m_index += "### " + title + "\n\n" + (m_format == "pdf" ? "" : "!") + "[" + title + "](" + name + ")\n\n";
        ++m_written;
    }
    std::string& index() { return m_index; }
    int written() const { return m_written; }

private:
    std::filesystem::path m_dir;
    std::string m_format, m_index;
    int m_written = 0;
};

} // namespace

void writeAllFigures(core::RunReader& run, const FigureArgs& a) {
    if (a.format != "png" && a.format != "svg" && a.format != "pdf")
        throw core::ArgumentError("Unknown figure format '" + a.format + "': use png, svg or pdf.");
    const std::filesystem::path dir(a.out);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec || !std::filesystem::is_directory(dir))
        throw core::FileError("Cannot create the figure folder '" + a.out + "'.");
    FigureSet set(dir, a.format);
    set.index() = "# Figures of " + run.path().filename().string() + "\n\n" + std::to_string(run.model().nLayers) +
                  " layers x " + std::to_string(run.model().nHeads) + " heads, " + std::to_string(run.layout().tokens) +
                  " tokens. Written by `attnscope-cli figure --all`.\n\n";
    const std::vector<std::string> metrics = figure::headGridMetrics(run);
    if (!metrics.empty()) set.section("Per-head metrics (layer x head)");
    for (const auto& metric : metrics) {
        const std::string stem = "grid_" + fileStem(metric);
        writeGridFigure(run, metric, a, set.path(stem));
        set.add(stem, metric);
    }
    set.section("Attention heatmaps");
    for (const auto& [layer, head] : heatmapHeads(run)) {
        const std::string stem = "heatmap_L" + std::to_string(layer) + "_H" + std::to_string(head);
        writeHeatmapFigure(run, a, layer, head, set.path(stem));
        set.add(stem, "Layer " + std::to_string(layer) + ", head " + std::to_string(head));
    }
    if (run.summary().qk || run.summary().fullProbs) {
        const auto [layer, head] = a.layer >= 0 && a.head >= 0 ? std::pair(a.layer, a.head) : focusedHead(run);
        const std::string stem = "text_L" + std::to_string(layer) + "_H" + std::to_string(head);
        FigureArgs textArgs = a;
        textArgs.metric.clear();
        textArgs.range.clear(); // --range is the heatmap's q0:q1,k0:k1 here
        textArgs.clipMax = 0;
        writeTextFigure(run, textArgs, layer, head, set.path(stem));
        set.section("Text view");
        set.add(stem, "Attention of the last token, layer " + std::to_string(layer) + ", head " + std::to_string(head));
    }
    const core::RunSummary summary = run.summary();
    auto has = [&](const char* name) {
        return std::find(summary.analyses.begin(), summary.analyses.end(), name) != summary.analyses.end();
    };
    if (has("anchors") || has("anchors_published")) {
        set.section("Sentences (thought anchors)");
        FigureArgs sentenceArgs = a;
        sentenceArgs.metric.clear();
        sentenceArgs.layer = sentenceArgs.head = -1;
        sentenceArgs.clipMax = 0;
        writeSentenceFigure(run, sentenceArgs, set.path("sentences"));
        set.add("sentences", has("anchors") ? "Sentence attention of the receiver heads" : "Published step importance");
        if (has("anchors") && has("anchors_suppression")) {
            sentenceArgs.metric = "suppression";
            writeSentenceFigure(run, sentenceArgs, set.path("sentences_suppression"));
            set.add("sentences_suppression", "Attention suppression (ln KL)");
        }
    }
    if (has("ablation") || has("calibration")) {
        set.section("Interventions");
        FigureArgs experimentArgs = a;
        experimentArgs.metric.clear();
        if (has("ablation")) {
            writeAblationFigure(run, experimentArgs, "ablation", set.path("ablation"));
            set.add("ablation", "Ablation");
        }
        if (has("calibration")) {
            writeAblationFigure(run, experimentArgs, "calibration", set.path("calibration"));
            set.add("calibration", "ACT calibration, before and after");
        }
    }
    if (!a.retrieval.empty()) {
        FigureArgs retrievalArgs = a;
        retrievalArgs.metric.clear();
        writeRetrievalFigure(retrievalArgs, set.path("retrieval"));
        set.section("Needle in a haystack");
        set.add("retrieval", "Retrieval success, context length x needle depth");
    }
    const auto indexPath = dir / "index.md";
    // Written under a temporary name and renamed, so that a reader never sees half an index.
    const auto tmp = std::filesystem::path(indexPath.string() + ".tmp");
    core::writeTextFile(tmp, set.index());
    std::filesystem::rename(tmp, indexPath, ec);
    if (ec) throw core::FileError("Cannot write '" + indexPath.string() + "'.");
    fmt::print("wrote {} figures and {}\n", set.written(), indexPath.string());
}

} // namespace attnscope::app

// attnscope-cli figure as a user runs it, on a small organism run: PNG size and heatmap pixels against the colormap
// and the run's own values, PDF through poppler (pdftoppm, pdftotext), SVG through Qt's XML reader, byte-identical
// repeats, the figure set of --all, and bad input as one sentence with exit code 2.
#include "colormap_path.hpp"
#include "figure_head_grid.hpp"
#include "figure_heatmap.hpp"
#include "figure_writer.hpp"
#include "store/run_reader.hpp"
#include "support/cli_runner.hpp"
#include "support/test_paths.hpp"

#include <QtCore/QFile>
#include <QtCore/QXmlStreamReader>
#include <QtGui/QImage>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace attnscope::test {
namespace {

const char* kPrompt = "the cat sat on the mat and the dog ran to the cat"; // "on", "mat": <unk> to the organism

class CliFigure : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        qputenv("QT_QPA_PLATFORM", "offscreen");
        s_dir = scratchDir("cli_figure");
        s_run = (s_dir / "run.attn.h5").string();
        const CliResult r =
            runCli({"capture", (resourcesDir() / "models/organism").string(), "--prompt", kPrompt, "--out", s_run});
        ASSERT_EQ(r.code, 0) << r.err;
    }
    static std::string out(const std::string& name) { return (s_dir / name).string(); }
    static inline std::filesystem::path s_dir;
    static inline std::string s_run;
};

TEST_F(CliFigure, HeatmapPngHasTheFigureSizeAndCellsFollowTheColormap) {
    CliResult r = runCli({"figure", s_run, "--view", "heatmap", "--layer", "1", "--head", "2", "--out", out("h.png")});
    ASSERT_EQ(r.code, 0) << r.err;
    r = runCli(
        {"figure", s_run, "--view", "heatmap", "--layer", "1", "--head", "2", "--dpi", "192", "--out", out("h2.png")});
    ASSERT_EQ(r.code, 0) << r.err;

    core::RunReader run(s_run);
    const figure::HeatmapData data = figure::loadHeatmap(run, {1, 2});
    const QSizeF size = figure::heatmapFigureSize(data);
    const QImage image(QString::fromStdString(out("h.png"))), image2(QString::fromStdString(out("h2.png")));
    ASSERT_FALSE(image.isNull());
    EXPECT_EQ(image.size(), size.toSize());
    EXPECT_EQ(image2.size(), (size * 2).toSize()); // --dpi 192 is two device pixels per logical pixel

    // Values straight from the run (level 0, the full map), coloured by hand: linear scale over the head's maximum.
    const int64_t T = run.layout().tokens;
    ASSERT_EQ(data.level, 0);
    ASSERT_EQ(data.rows, T);
    const core::Tile tile = run.tile(1, 2, 0, 0, 0, T);
    float vmax = 0;
    for (float v : tile.values)
        vmax = std::max(vmax, v);
    const QRectF plot = figure::heatmapPlotRect(data);
    const double cell = plot.width() / double(T);
    for (auto [q, k] : {std::pair<int64_t, int64_t>{0, 0}, {5, 2}, {T - 1, 3}, {T - 1, T - 1}}) {
        const float v = tile.values[size_t(q * T + k)];
        const auto want = views::colormapRgb8(views::Colormap::Viridis, v / vmax);
        const QColor got =
            image.pixelColor(int(plot.left() + (double(k) + 0.5) * cell), int(plot.top() + (double(q) + 0.5) * cell));
        // 8-bit rounding of the same float: exact, one step of slack for the painter's conversions.
        EXPECT_NEAR(got.red(), want[0], 1) << "cell " << q << "," << k << " value " << v;
        EXPECT_NEAR(got.green(), want[1], 1) << "cell " << q << "," << k;
        EXPECT_NEAR(got.blue(), want[2], 1) << "cell " << q << "," << k;
    }
    // The first query can only attend to itself: weight 1, the top of viridis (matplotlib: #fde725; our polynomial fit
    // is within 5/255 of matplotlib's table, its largest error at the ends).
    const QColor top = image.pixelColor(int(plot.left() + 0.5 * cell), int(plot.top() + 0.5 * cell));
    EXPECT_NEAR(top.red(), 0xfd, 5);
    EXPECT_NEAR(top.green(), 0xe7, 5);
    EXPECT_NEAR(top.blue(), 0x25, 5);
    // Above the diagonal is the causal mask, drawn light grey.
    const QColor masked = image.pixelColor(int(plot.left() + (T - 0.5) * cell), int(plot.top() + 0.5 * cell));
    EXPECT_EQ(masked, QColor(235, 235, 235));
}

TEST_F(CliFigure, ClipMaxAndScalesChangeTheColours) {
    ASSERT_EQ(runCli({"figure", s_run, "--view", "heatmap", "--layer", "0", "--head", "0", "--clip-max", "0.1",
                      "--colormap", "magma", "--scale", "log", "--out", out("clip.png")})
                  .code,
              0);
    core::RunReader run(s_run);
    figure::HeatmapSpec spec{0, 0};
    spec.clipMax = 0.1;
    spec.colormap = views::Colormap::Magma;
    spec.scale = figure::HeatmapScale::Log;
    const figure::HeatmapData data = figure::loadHeatmap(run, spec);
    EXPECT_TRUE(data.clipped);
    const QImage image(QString::fromStdString(out("clip.png")));
    const QRectF plot = figure::heatmapPlotRect(data);
    const QColor got = image.pixelColor(int(plot.left() + 2), int(plot.top() + 2)); // weight 1 > 0.1: top colour
    const auto want = views::colormapRgb8(views::Colormap::Magma, 1.0f);
    EXPECT_NEAR(got.red(), want[0], 1);
    EXPECT_NEAR(got.green(), want[1], 1);
    EXPECT_NEAR(got.blue(), want[2], 1);
}

TEST_F(CliFigure, PdfRendersWithPopplerAndHoldsTheTokenLabels) {
    if (!havePoppler()) GTEST_SKIP() << "pdftoppm/pdftotext are not installed (Debian poppler-utils)";
    ASSERT_EQ(runCli({"figure", s_run, "--view", "heatmap", "--layer", "2", "--head", "1", "--out", out("h.pdf")}).code,
              0);
    const std::string pdf = out("h.pdf");
    ASSERT_EQ(
        std::system(("pdftoppm -r 50 -png -singlefile " + shellQuote(pdf) + " " + shellQuote(out("pdfpage"))).c_str()),
        0);
    const QImage page(QString::fromStdString(out("pdfpage.png")));
    EXPECT_GT(page.width(), 100);
    ASSERT_EQ(std::system(("pdftotext " + shellQuote(pdf) + " " + shellQuote(out("h.txt"))).c_str()), 0);
    const std::string text = readBinary<char>(out("h.txt"));
    for (const char* label : {"cat", "dog", "<bos>", "layer 2, head 1"})
        EXPECT_NE(text.find(label), std::string::npos) << label << " not in:\n" << text;
}

TEST_F(CliFigure, SvgParsesAndHoldsTheLabels) {
    ASSERT_EQ(runCli({"figure", s_run, "--view", "heatmap", "--layer", "0", "--head", "3", "--out", out("h.svg")}).code,
              0);
    QFile file(QString::fromStdString(out("h.svg")));
    ASSERT_TRUE(file.open(QIODevice::ReadOnly));
    QXmlStreamReader xml(&file);
    std::string texts;
    while (!xml.atEnd())
        if (xml.readNext() == QXmlStreamReader::StartElement && xml.name() == QLatin1String("text"))
            texts += xml.readElementText().toStdString() + "\n";
    EXPECT_FALSE(xml.hasError()) << xml.errorString().toStdString();
    for (const char* label : {"cat", "dog", "<bos>", "layer 0, head 3"})
        EXPECT_NE(texts.find(label), std::string::npos) << label << " not in:\n" << texts;
}

TEST_F(CliFigure, OutputIsByteIdenticalAcrossRuns) {
    for (const char* ext : {".png", ".svg", ".pdf"}) {
        for (const char* view : {"heatmap", "grid"}) {
            std::string bytes[2];
            for (int i = 0; i < 2; ++i) {
                const std::string file = out(std::string("same") + std::to_string(i) + ext);
                const CliResult r =
                    runCli({"figure", s_run, "--view", view, "--layer", "3", "--head", "4", "--out", file});
                ASSERT_EQ(r.code, 0) << r.err;
                bytes[i] = readBinary<char>(file);
            }
            EXPECT_FALSE(bytes[0].empty());
            EXPECT_TRUE(bytes[0] == bytes[1]) << view << ext << " differs between two runs";
        }
    }
}

TEST_F(CliFigure, GridHasItsSizeAndLegend) {
    ASSERT_EQ(runCli({"figure", s_run, "--view", "grid", "--metric", "first_mass", "--out", out("g.png")}).code, 0);
    ASSERT_EQ(runCli({"figure", s_run, "--view", "grid", "--metric", "first_mass", "--out", out("g.svg")}).code, 0);
    core::RunReader run(s_run);
    const figure::HeadGridData data = figure::loadHeadGrid(run, "first_mass", views::Colormap::Viridis);
    EXPECT_EQ(data.metric, "stats/first_mass");
    EXPECT_EQ(data.values.size(), size_t(run.model().nLayers * run.model().nHeads));
    EXPECT_EQ(QImage(QString::fromStdString(out("g.png"))).size(), figure::headGridFigureSize(data).toSize());
    const std::string svg = readBinary<char>(out("g.svg"));
    for (const char* label : {"stats/first_mass per head", ">layer<", ">head<", "viridis"})
        EXPECT_NE(svg.find(label), std::string::npos) << label;
}

TEST_F(CliFigure, GridShowsAnAnalysisDataset) {
    CliResult r = runCli({"analyze", s_run, "--only", "sinks"});
    ASSERT_EQ(r.code, 0) << r.err;
    r = runCli(
        {"figure", s_run, "--view", "grid", "--metric", "alpha_first", "--colormap", "magma", "--out", out("gs.svg")});
    ASSERT_EQ(r.code, 0) << r.err;
    core::RunReader run(s_run);
    const figure::HeadGridData data = figure::loadHeadGrid(run, "alpha_first", views::Colormap::Magma);
    EXPECT_EQ(data.metric, "sinks/alpha_first");
    EXPECT_EQ(data.values, run.analysis("sinks").dataset("alpha_first")->toDoubles());
    EXPECT_NE(readBinary<char>(out("gs.svg")).find("sinks/alpha_first per head"), std::string::npos);
}

TEST_F(CliFigure, AllWritesAFigureSetWithAnIndex) {
    const std::string dir = out("set");
    const CliResult r = runCli({"figure", s_run, "--all", "--out", dir});
    ASSERT_EQ(r.code, 0) << r.err;
    const std::string index = readBinary<char>(std::filesystem::path(dir) / "index.md");
    for (const char* name : {"grid_stats_entropy.png", "heatmap_L0_H0.png", "heatmap_L3_H7.png"}) {
        EXPECT_NE(index.find(std::string("](") + name + ")"), std::string::npos) << name;
        EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(dir) / name)) << name;
    }
}

TEST_F(CliFigure, BadInputIsOneSentenceWithExitTwo) {
    expectOneSentenceError(runCli({"figure", s_run, "--view", "pie", "--out", out("x.png")}), "pie");
    expectOneSentenceError(
        runCli({"figure", s_run, "--view", "heatmap", "--layer", "9", "--head", "0", "--out", out("x.png")}),
        "layer 9");
    expectOneSentenceError(
        runCli({"figure", s_run, "--view", "heatmap", "--layer", "0", "--head", "0", "--out", out("x.gif")}), "x.gif");
    expectOneSentenceError(runCli({"figure", out("missing.attn.h5"), "--view", "grid", "--out", out("x.png")}),
                           "missing.attn.h5");
    expectOneSentenceError(runCli({"figure", s_run, "--view", "grid", "--metric", "nope", "--out", out("x.png")}),
                           "nope");
    expectOneSentenceError(runCli({"figure", s_run, "--view", "heatmap", "--layer", "0", "--head", "0", "--range",
                                   "0:99,0:5", "--out", out("x.png")}),
                           "range");
    EXPECT_FALSE(std::filesystem::exists(out("x.png")));
}

} // namespace
} // namespace attnscope::test

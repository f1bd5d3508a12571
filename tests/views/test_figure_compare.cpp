// The Compare view's figures as a user makes them with attnscope-cli on the organism: two prompts of six words (the
// organism's tokenizer is word-level, so both runs have 7 tokens) as B - A on the diverging map (`--view heatmap
// --minus`) and side by side with one colour range (`--view compare --with`). Colours against B - A computed here from
// the runs' own tiles, PDF and SVG text, byte-identical repeats, and bad input as one sentence with exit code 2.
#include "colormap_path.hpp"
#include "figure_compare.hpp"
#include "store/run_reader.hpp"
#include "support/cli_runner.hpp"
#include "support/test_paths.hpp"

#include <QtCore/QFile>
#include <QtGui/QImage>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace attnscope::test {
namespace {

void expectColour(const QImage& image, QPointF at, std::array<int, 3> want, const std::string& what) {
    const QColor got = image.pixelColor(at.toPoint());
    // 8-bit rounding of the same float: exact, one step of slack for the painter's conversions.
    EXPECT_NEAR(got.red(), want[0], 1) << what;
    EXPECT_NEAR(got.green(), want[1], 1) << what;
    EXPECT_NEAR(got.blue(), want[2], 1) << what;
}

// One head's full map at level 0, straight from the run file.
std::vector<float> fullMap(const std::string& file, int64_t layer, int64_t head) {
    core::RunReader run(file);
    const int64_t T = run.layout().tokens;
    return run.tile(layer, head, 0, 0, 0, T).values;
}

class FigureCompare : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        qputenv("QT_QPA_PLATFORM", "offscreen");
        s_dir = scratchDir("figure_compare");
        const std::string organism = (resourcesDir() / "models/organism").string();
        const struct {
            std::string* path;
            const char *name, *prompt;
        } runs[] = {{&s_a, "dog_to_cat", "the dog ran to the cat"},
                    {&s_b, "cat_to_dog", "the cat ran to the dog"},
                    {&s_long, "cat_to_dog_and", "the cat ran to the dog and"}};
        for (auto [path, name, prompt] : runs) {
            *path = (s_dir / (std::string(name) + ".attn.h5")).string();
            const CliResult r = runCli({"capture", organism, "--prompt", prompt, "--out", *path});
            ASSERT_EQ(r.code, 0) << r.err;
        }
    }
    static std::string out(const std::string& name) { return (s_dir / name).string(); }
    static inline std::filesystem::path s_dir;
    static inline std::string s_a, s_b; // 7 tokens each: "<bos> the dog ran to the cat" and the other way round
    static inline std::string s_long;   // 8 tokens
};

TEST_F(FigureCompare, DifferenceOfARunWithItselfIsTheDivergingMapsCentre) {
    const CliResult r = runCli(
        {"figure", s_a, "--view", "heatmap", "--minus", s_a, "--layer", "2", "--head", "1", "--out", out("self.png")});
    ASSERT_EQ(r.code, 0) << r.err;
    core::RunReader run(s_a);
    const figure::HeatmapData d = figure::loadHeatmapDifference(run, run, {2, 1});
    const QImage image(QString::fromStdString(out("self.png")));
    ASSERT_EQ(image.size(), figure::heatmapFigureSize(d).toSize());
    const QRectF plot = figure::heatmapPlotRect(d);
    const double cell = plot.width() / double(d.cols);
    const auto mid = views::divergingRgb8(0.5);
    for (int64_t q = 0; q < d.rows; ++q)
        for (int64_t k = 0; k <= q; ++k) // on and below the diagonal; above it is the causal mask
            expectColour(image, {plot.left() + (k + 0.5) * cell, plot.top() + (q + 0.5) * cell}, mid,
                         "cell " + std::to_string(q) + "," + std::to_string(k));
}

TEST_F(FigureCompare, DifferenceOfTwoPromptsFollowsTheDivergingMap) {
    const CliResult r = runCli(
        {"figure", s_b, "--view", "heatmap", "--minus", s_a, "--layer", "2", "--head", "1", "--out", out("diff.png")});
    ASSERT_EQ(r.code, 0) << r.err;
    // B - A and its largest magnitude, from the runs' tiles here rather than from the figure's loader.
    const std::vector<float> a = fullMap(s_a, 2, 1), b = fullMap(s_b, 2, 1);
    ASSERT_EQ(a.size(), b.size());
    const int64_t T = int64_t(std::lround(std::sqrt(double(a.size()))));
    float range = 0;
    int64_t top = 0, bottom = 0; // the cells of the largest and smallest difference
    for (size_t i = 0; i < a.size(); ++i) {
        range = std::max(range, std::abs(b[i] - a[i]));
        if (b[i] - a[i] > b[size_t(top)] - a[size_t(top)]) top = int64_t(i);
        if (b[i] - a[i] < b[size_t(bottom)] - a[size_t(bottom)]) bottom = int64_t(i);
    }
    ASSERT_GT(range, 0.05f) << "the two prompts should attend differently in head 2.1";
    core::RunReader ra(s_a), rb(s_b);
    const figure::HeatmapData d = figure::loadHeatmapDifference(ra, rb, {2, 1});
    ASSERT_EQ(d.rows, T);
    EXPECT_FLOAT_EQ(float(d.vmax), range);
    const QImage image(QString::fromStdString(out("diff.png")));
    ASSERT_EQ(image.size(), figure::heatmapFigureSize(d).toSize());
    const QRectF plot = figure::heatmapPlotRect(d);
    const double cell = plot.width() / double(T);
    for (int64_t at : {top, bottom, int64_t(0), (T - 1) * T + 2, 3 * T + 1}) {
        const int64_t q = at / T, k = at % T;
        const double diff = double(b[size_t(at)]) - double(a[size_t(at)]);
        expectColour(image, {plot.left() + (k + 0.5) * cell, plot.top() + (q + 0.5) * cell},
                     views::divergingRgb8(0.5 + diff / (2.0 * range)),
                     "cell " + std::to_string(q) + "," + std::to_string(k) + " B - A = " + std::to_string(diff));
    }
    // The largest magnitude sits at an end of the map: red when B is above A there, blue when below.
    const bool redEnd = b[size_t(top)] - a[size_t(top)] == range;
    const int64_t end = redEnd ? top : bottom;
    expectColour(image, {plot.left() + (end % T + 0.5) * cell, plot.top() + (end / T + 0.5) * cell},
                 views::divergingRgb8(redEnd ? 1.0 : 0.0), "largest |B - A|");

    // --clip-max: the colour range is ±clip, larger differences get the end colours.
    const double clip = range / 4;
    ASSERT_EQ(runCli({"figure", s_b, "--view", "heatmap", "--minus", s_a, "--layer", "2", "--head", "1", "--clip-max",
                      std::to_string(clip), "--out", out("diff_clip.png")})
                  .code,
              0);
    figure::HeatmapSpec spec{2, 1};
    spec.clipMax = std::stod(std::to_string(clip));
    const figure::HeatmapData dc = figure::loadHeatmapDifference(ra, rb, spec);
    EXPECT_TRUE(dc.clipped);
    const QImage clipped(QString::fromStdString(out("diff_clip.png")));
    const QRectF plotC = figure::heatmapPlotRect(dc);
    for (auto [at, t] : {std::pair<int64_t, double>{top, 1.0}, {bottom, 0.0}})
        expectColour(clipped, {plotC.left() + (at % T + 0.5) * cell, plotC.top() + (at / T + 0.5) * cell},
                     views::divergingRgb8(t), "clipped end " + std::to_string(t));
}

TEST_F(FigureCompare, SideBySideSharesOneColourRange) {
    // Without the first query (weight 1 in every run) the two runs have different maxima.
    const CliResult r = runCli({"figure", s_a, "--view", "compare", "--with", s_b, "--layer", "2", "--head", "1",
                                "--range", "1:7,0:7", "--out", out("pair.png")});
    ASSERT_EQ(r.code, 0) << r.err;
    const std::vector<float> a = fullMap(s_a, 2, 1), b = fullMap(s_b, 2, 1);
    const int64_t T = 7;
    float maxA = 0, maxB = 0;
    for (int64_t i = T; i < T * T; ++i)
        maxA = std::max(maxA, a[size_t(i)]), maxB = std::max(maxB, b[size_t(i)]);
    ASSERT_NE(maxA, maxB);
    const float vmax = std::max(maxA, maxB);
    core::RunReader ra(s_a), rb(s_b);
    const figure::HeatmapPair pair = figure::loadHeatmapPair(ra, rb, {2, 1, 1, 7, 0, 7});
    EXPECT_FLOAT_EQ(float(pair.a.vmax), vmax);
    EXPECT_FLOAT_EQ(float(pair.b.vmax), vmax);
    const QImage image(QString::fromStdString(out("pair.png")));
    ASSERT_EQ(image.size(), figure::heatmapPairFigureSize(pair).toSize());
    const QRectF plotA = figure::heatmapPlotRect(pair.a);
    const QRectF plotB = figure::heatmapPlotRect(pair.b).translated(figure::heatmapPairOffset(pair));
    const double cell = plotA.width() / double(T);
    for (auto [q, k] : {std::pair<int64_t, int64_t>{1, 0}, {2, 1}, {5, 4}, {6, 2}}) {
        const std::string where = "cell " + std::to_string(q) + "," + std::to_string(k);
        const QPointF in(((k + 0.5) * cell), ((q - 1 + 0.5) * cell));
        expectColour(image, plotA.topLeft() + in,
                     views::colormapRgb8(views::Colormap::Viridis, a[size_t(q * T + k)] / vmax), "A " + where);
        expectColour(image, plotB.topLeft() + in,
                     views::colormapRgb8(views::Colormap::Viridis, b[size_t(q * T + k)] / vmax), "B " + where);
    }
}

TEST_F(FigureCompare, PdfAndSvgNameBothRunsAndRepeatByteForByte) {
    const std::string nameA = std::filesystem::path(s_a).filename().string();
    const std::string nameB = std::filesystem::path(s_b).filename().string();
    const std::vector<std::vector<std::string>> figures = {
        {"figure", s_b, "--view", "heatmap", "--minus", s_a, "--layer", "2", "--head", "1"},
        {"figure", s_a, "--view", "compare", "--with", s_b, "--layer", "2", "--head", "1"}};
    const bool poppler = std::system("command -v pdftotext >/dev/null") == 0;
    for (size_t f = 0; f < figures.size(); ++f)
        for (const char* ext : {".png", ".svg", ".pdf"}) {
            std::string bytes[2];
            for (int i = 0; i < 2; ++i) {
                const std::string file = out("both" + std::to_string(f) + "_" + std::to_string(i) + ext);
                std::vector<std::string> args = figures[f];
                args.insert(args.end(), {"--out", file});
                const CliResult r = runCli(args);
                ASSERT_EQ(r.code, 0) << r.err;
                bytes[i] = readBinary<char>(file);
            }
            EXPECT_FALSE(bytes[0].empty());
            EXPECT_TRUE(bytes[0] == bytes[1]) << figures[f][3] << ext << " differs between two runs";
            std::string text;
            if (std::string(ext) == ".svg") text = bytes[0];
            if (std::string(ext) == ".pdf" && poppler) {
                const std::string pdf = out("both" + std::to_string(f) + "_0.pdf");
                ASSERT_EQ(std::system(("pdftotext " + shellQuote(pdf) + " " + shellQuote(pdf + ".txt")).c_str()), 0);
                text = readBinary<char>(pdf + ".txt");
            }
            if (text.empty()) continue;
            EXPECT_NE(text.find(nameA), std::string::npos) << nameA << " not in " << ext << ":\n" << text;
            EXPECT_NE(text.find(nameB), std::string::npos) << nameB << " not in " << ext << ":\n" << text;
            if (f == 0) EXPECT_NE(text.find("B \u2212 A"), std::string::npos) << "colour bar label in " << ext;
        }
}

TEST_F(FigureCompare, BadInputIsOneSentence) {
    const std::vector<std::string> head = {"--layer", "2", "--head", "1", "--out", out("bad.png")};
    auto with = [&](std::vector<std::string> args) {
        args.insert(args.end(), head.begin(), head.end());
        return runCli(args);
    };
    expectOneSentenceError(with({"figure", s_b, "--view", "heatmap", "--minus", s_long}), "different lengths");
    expectOneSentenceError(with({"figure", s_b, "--view", "heatmap", "--minus", out("missing.attn.h5")}),
                           "missing.attn.h5");
    expectOneSentenceError(with({"figure", s_a, "--view", "compare"}), "--with");
    expectOneSentenceError(with({"figure", s_a, "--view", "compare", "--with", out("missing.attn.h5")}),
                           "missing.attn.h5");
    expectOneSentenceError(with({"figure", s_a, "--view", "grid", "--minus", s_b}), "--minus");
    expectOneSentenceError(with({"figure", s_a, "--view", "heatmap", "--with", s_b}), "--with");
    EXPECT_FALSE(std::filesystem::exists(out("bad.png")));
}

} // namespace
} // namespace attnscope::test

// The real explorer window under Xvfb (Mesa's software renderer): a scripted session on a real run whose screenshot
// is inspected, and the one-sentence errors for paths it cannot open.
#include "colormap.hpp"
#include "support/cli_runner.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <stb_image.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>

using namespace attnscope;
using test::runCli;
using test::runProgram;

namespace {

// A run of the organism on its demo story, with every analysis, made once per test process.
const std::filesystem::path& fixtureRun() {
    static const std::filesystem::path run = [] {
        const auto dir = test::scratchDir("gui-fixture");
        const auto out = dir / "demo.attn.h5";
        const auto r = runCli({"capture", (test::resourcesDir() / "models/organism").string(), "--prompt-file",
                               (test::resourcesDir() / "prompts/demo_story.txt").string(), "--out", out.string()});
        EXPECT_EQ(r.code, 0) << r.err;
        EXPECT_EQ(runCli({"analyze", out.string()}).code, 0);
        return out;
    }();
    return run;
}

// Settings and captures of the explorer go to a scratch folder, never the user's.
void privateFolders() {
    const auto dir = test::scratchDir("gui-home");
    setenv("XDG_CONFIG_HOME", (dir / "config").c_str(), 1);
    setenv("XDG_DATA_HOME", (dir / "data").c_str(), 1);
}

struct Image {
    int width = 0, height = 0;
    std::vector<uint8_t> rgb;
    std::array<int, 3> at(int x, int y) const {
        const size_t i = (size_t(y) * size_t(width) + size_t(x)) * 3;
        return {rgb[i], rgb[i + 1], rgb[i + 2]};
    }
};

Image readPng(const std::filesystem::path& file) {
    Image img;
    int channels = 0;
    unsigned char* data = stbi_load(file.c_str(), &img.width, &img.height, &channels, 3);
    if (!data) return img;
    img.rgb.assign(data, data + size_t(img.width) * size_t(img.height) * 3);
    stbi_image_free(data);
    return img;
}

test::CliResult runScript(const std::string& script, const std::vector<std::string>& extra = {}) {
    const auto file = test::scratchDir("gui-script") / "script.txt";
    std::ofstream(file) << script;
    std::vector<std::string> args{"--script", file.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return runProgram(ATTNSCOPE_GUI, args);
}

int distance(const std::array<int, 3>& a, const std::array<int, 3>& b) {
    return std::max({std::abs(a[0] - b[0]), std::abs(a[1] - b[1]), std::abs(a[2] - b[2])});
}

// Smallest channel distance from `c` to the colormap's 256 colours.
int distanceToColormap(const std::array<int, 3>& c, views::Colormap map) {
    int best = 255;
    for (int i = 0; i < 256; ++i)
        best = std::min(best, distance(c, views::colormapRgb8(map, float(i) / 255.0f)));
    return best;
}

// Runs of pixels unlike `background` along a line: the cells a row or column of the grid crosses.
int countSegments(const Image& img, int x0, int y0, int dx, int dy, int steps, const std::array<int, 3>& background) {
    int segments = 0;
    bool inside = false;
    for (int i = 0; i < steps; ++i) {
        const bool cell = distance(img.at(x0 + i * dx, y0 + i * dy), background) > 2;
        segments += cell && !inside;
        inside = cell;
    }
    return segments;
}

} // namespace

TEST(ExplorerWindow, ClickedHeadShowsInTheHeatmapAndTheGridShowsEveryHead) {
    privateFolders();
    const auto shot = test::scratchDir("gui-click") / "shot.png";
    const auto r = runScript("wait-tiles 60\nclick-grid 3 2\nwait-tiles 60\ncolormap magma\nframes 3\nscreenshot " +
                                 shot.string() + "\nframes 1\n",
                             {fixtureRun().string()});
    ASSERT_EQ(r.code, 0) << r.err;
    const Image img = readPng(shot);
    ASSERT_FALSE(img.rgb.empty());
    const auto regions = nlohmann::json::parse(std::ifstream(shot.string() + ".json"));
    // The click on grid cell (3, 2) went through ImGui's input and selected that head.
    EXPECT_EQ(regions.at("layer"), 3);
    EXPECT_EQ(regions.at("head"), 2);
    EXPECT_EQ(regions.at("colormap"), "magma");

    // Heatmap: at and below the diagonal every sampled pixel is a magma colour; above it, one mask colour.
    const auto cells = regions.at("heatmap_cells");
    const int hx = cells[0].get<int>(), hy = cells[1].get<int>(), hw = cells[2].get<int>(), hh = cells[3].get<int>();
    ASSERT_GT(hw, 100);
    ASSERT_GT(hh, 100);
    int below = 0, onMap = 0;
    std::set<std::array<int, 3>> above;
    for (int j = 2; j < 40; ++j)
        for (int i = 2; i < 40; ++i) {
            const int x = hx + i * hw / 42, y = hy + j * hh / 42;
            if (i < j - 1) {
                ++below;
                // 6/255: the polynomial colormap's neighbouring entries differ by up to 4/255, plus 8-bit rounding
                // on the GPU and in the FBO-to-window copy.
                onMap += distanceToColormap(img.at(x, y), views::Colormap::Magma) <= 6;
            } else if (i > j + 1) {
                above.insert(img.at(x, y));
            }
        }
    EXPECT_GE(onMap, below * 98 / 100) << onMap << " of " << below << " samples below the diagonal are magma colours";
    EXPECT_EQ(above.size(), 1u) << "cells above the causal diagonal are drawn in one mask colour";

    // Grid: a line through the first row of cells crosses one cell per head, one through the first column one per
    // layer; cells are separated by background gaps.
    const auto grid = regions.at("grid_cells");
    const int gx = grid[0].get<int>(), gy = grid[1].get<int>(), gw = grid[2].get<int>(), gh = grid[3].get<int>();
    ASSERT_GT(gw, 50);
    const std::array<int, 3> background = img.at(gx - 1, gy - 1);
    const int cellH = gh / 4, cellW = gw / 8;
    EXPECT_EQ(countSegments(img, gx - 1, gy + cellH / 2, 1, 0, gw + 2, background), 8);
    EXPECT_EQ(countSegments(img, gx + cellW / 2, gy - 1, 0, 1, gh + 2, background), 4);
}

TEST(ExplorerWindow, ScriptedSessionScreenshotIsNotBlank) {
    privateFolders();
    const auto shot = test::scratchDir("gui-shot") / "shot.png";
    const auto r =
        runScript("wait-tiles 60\nframes 3\nscreenshot " + shot.string() + "\nframes 1\n", {fixtureRun().string()});
    ASSERT_EQ(r.code, 0) << r.err;
    const Image img = readPng(shot);
    ASSERT_EQ(img.width, 1600);
    ASSERT_EQ(img.height, 1000);
    std::set<std::array<int, 3>> colours;
    for (int y = 0; y < img.height; y += 7)
        for (int x = 0; x < img.width; x += 7)
            colours.insert(img.at(x, y));
    EXPECT_GT(colours.size(), 20u) << "a blank or nearly blank window";
    const auto regions = nlohmann::json::parse(std::ifstream(shot.string() + ".json"));
    EXPECT_EQ(regions.at("layers"), 4);
    EXPECT_EQ(regions.at("heads"), 8);
    EXPECT_EQ(regions.at("error"), "");
}

TEST(ExplorerWindow, MissingPathIsOneSentenceAndExitTwo) {
    privateFolders();
    const auto r = runProgram(ATTNSCOPE_GUI, {"--frames", "2", "/nonexistent/run.attn.h5"});
    test::expectOneSentenceError(r, "/nonexistent/run.attn.h5");
}

TEST(ExplorerWindow, MalformedRunFileIsOneSentenceAndExitTwo) {
    privateFolders();
    const auto bad = test::scratchDir("gui-bad") / "bad.attn.h5";
    std::ofstream(bad) << "this is not HDF5";
    const auto r = runProgram(ATTNSCOPE_GUI, {"--frames", "2", bad.string()});
    test::expectOneSentenceError(r, bad.string());
}

TEST(ExplorerWindow, BadScriptIsOneSentenceAndExitTwo) {
    privateFolders();
    const auto r = runScript("zoom lots\n", {fixtureRun().string()});
    test::expectOneSentenceError(r, "line 1");
}

// "Export figure..." writes what is on screen through the CLI's writers: the fitted heatmap and the grid equal
// `attnscope-cli figure` with the same options byte for byte; after zooming, the figure holds only the visible range.
TEST(ExplorerWindow, ExportedFiguresAreTheCliFiguresOfWhatIsOnScreen) {
    privateFolders();
    const auto dir = test::scratchDir("gui-export");
    const auto r = runScript("wait-tiles 60\nhead 1 2\ncolormap magma\nmetric stats/entropy\nframes 3\n"
                             "export heatmap " +
                                 (dir / "heatmap.svg").string() +
                                 "\n"
                                 "export grid " +
                                 (dir / "grid.png").string() +
                                 "\n"
                                 "zoom 4\nframes 3\nexport heatmap " +
                                 (dir / "zoomed.pdf").string() + "\n",
                             {fixtureRun().string()});
    ASSERT_EQ(r.code, 0) << r.err;
    const auto run = fixtureRun().string();
    ASSERT_EQ(runCli({"figure", run, "--view", "heatmap", "--layer", "1", "--head", "2", "--colormap", "magma", "--out",
                      (dir / "cli_heatmap.svg").string()})
                  .code,
              0);
    ASSERT_EQ(
        runCli({"figure", run, "--view", "grid", "--metric", "stats/entropy", "--out", (dir / "cli_grid.png").string()})
            .code,
        0);
    EXPECT_FALSE(test::readBinary<char>(dir / "heatmap.svg").empty());
    EXPECT_EQ(test::readBinary<char>(dir / "heatmap.svg"), test::readBinary<char>(dir / "cli_heatmap.svg"));
    EXPECT_EQ(test::readBinary<char>(dir / "grid.png"), test::readBinary<char>(dir / "cli_grid.png"));

    const auto text = runProgram("pdftotext", {(dir / "zoomed.pdf").string(), "-"});
    ASSERT_EQ(text.code, 0) << text.err;
    long long q0 = -1, q1 = -1, k0 = -1, k1 = -1;
    const auto at = text.out.find("queries ");
    ASSERT_NE(at, std::string::npos) << text.out;
    ASSERT_EQ(std::sscanf(text.out.c_str() + at, "queries %lld:%lld, keys %lld:%lld", &q0, &q1, &k0, &k1), 4)
        << text.out.substr(at, 60);
    // Zoomed in 4x about the centre: about a quarter of the rows, around the middle.
    EXPECT_GT(q0, 0);
    EXPECT_LT(q1 - q0, 200) << "the demo story has about 260 tokens; a 4x zoom shows about a quarter of them";
}

TEST(ExplorerWindow, ExportingAViewThatShowsNothingIsOneSentence) {
    privateFolders();
    const auto r =
        runScript("wait-tiles 60\nexport sentences " + (test::scratchDir("gui-export-bad") / "s.svg").string() + "\n",
                  {fixtureRun().string()});
    EXPECT_NE(r.code, 0);
    EXPECT_NE(r.err.find("no view shows a 'sentences' figure"), std::string::npos) << r.err;
}

// The model panels' results live in the session only: their exports carry the numbers on screen.
TEST(ExplorerWindow, PanelResultsExportAsBeforeAfterFigures) {
    privateFolders();
    const auto dir = test::scratchDir("gui-export-panels");
    const auto r = runScript("wait-tiles 60\npick 3 2\nframes 20\nwait-panels 120\n"
                             "export ablation " +
                                 (dir / "ablation.pdf").string() +
                                 "\n"
                                 "export calibration " +
                                 (dir / "calibration.svg").string() + "\n",
                             {fixtureRun().string()});
    ASSERT_EQ(r.code, 0) << r.err;
    const auto text = runProgram("pdftotext", {(dir / "ablation.pdf").string(), "-"});
    ASSERT_EQ(text.code, 0) << text.err;
    EXPECT_NE(text.out.find("zero ablation of L3H2"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("loss (nats)"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("Ships"), std::string::npos) << text.out;
    const std::string svg = test::readBinary<char>(dir / "calibration.svg");
    EXPECT_NE(svg.find("ACT calibration"), std::string::npos);
    EXPECT_NE(svg.find("threshold"), std::string::npos);
}

// `compare PATH difference` shows B - A, and `export Compare` writes what that window shows (the main Heatmap view
// also exports a "heatmap" figure, so the kind alone would pick the wrong window): `figure B --view heatmap --minus A`.
// B is the same story computed in bfloat16: the same tokens, attention a little different.
TEST(ExplorerWindow, CompareViewExportsTheCliDifferenceFigure) {
    privateFolders();
    const auto dir = test::scratchDir("gui-export-difference");
    const auto second = dir / "bf16.attn.h5";
    ASSERT_EQ(runCli({"capture", (test::resourcesDir() / "models/organism").string(), "--prompt-file",
                      (test::resourcesDir() / "prompts/demo_story.txt").string(), "--dtype", "bf16", "--out",
                      second.string()})
                  .code,
              0);
    const auto r = runScript("wait-tiles 60\nhead 2 2\ncompare " + second.string() +
                                 " difference\nframes 60\nexport Compare " + (dir / "diff.svg").string() + "\n",
                             {fixtureRun().string()});
    ASSERT_EQ(r.code, 0) << r.err;
    ASSERT_EQ(runCli({"figure", second.string(), "--view", "heatmap", "--minus", fixtureRun().string(), "--layer", "2",
                      "--head", "2", "--out", (dir / "cli_diff.svg").string()})
                  .code,
              0);
    const std::string svg = test::readBinary<char>(dir / "diff.svg");
    EXPECT_NE(svg.find("B \u2212 A"), std::string::npos);
    EXPECT_EQ(svg, test::readBinary<char>(dir / "cli_diff.svg"));
}

// The Compare view exports the two runs side by side as `figure A --view compare --with B` draws them.
TEST(ExplorerWindow, CompareViewExportsTheCliPairFigure) {
    privateFolders();
    const auto dir = test::scratchDir("gui-export-compare");
    // Shorter than the demo story, so A's fitted camera (the shared one) shows every token of both runs.
    const auto second = dir / "second.attn.h5";
    ASSERT_EQ(runCli({"capture", (test::resourcesDir() / "models/organism").string(), "--prompt",
                      "the cat ran to the dog", "--out", second.string()})
                  .code,
              0);
    const auto r = runScript("wait-tiles 60\nhead 1 2\ncompare " + second.string() + "\nframes 60\nexport compare " +
                                 (dir / "pair.svg").string() + "\n",
                             {fixtureRun().string()});
    ASSERT_EQ(r.code, 0) << r.err;
    ASSERT_EQ(runCli({"figure", fixtureRun().string(), "--view", "compare", "--with", second.string(), "--layer", "1",
                      "--head", "2", "--out", (dir / "cli_pair.svg").string()})
                  .code,
              0);
    EXPECT_FALSE(test::readBinary<char>(dir / "pair.svg").empty());
    EXPECT_EQ(test::readBinary<char>(dir / "pair.svg"), test::readBinary<char>(dir / "cli_pair.svg"));
}

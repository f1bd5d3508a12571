// The real explorer window under Xvfb (Mesa's software renderer): a scripted session on a real run whose screenshot
// is inspected, and the one-sentence errors for paths it cannot open.
#include "colormap.hpp"
#include "support/cli_runner.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <stb_image.h>

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

} // namespace

TEST(ExplorerWindow, ScriptedSessionScreenshotIsNotBlank) {
    privateFolders();
    const auto shot = test::scratchDir("gui-shot") / "shot.png";
    const auto r = runScript("wait-tiles 60\nframes 3\nscreenshot " + shot.string() + "\nframes 1\n",
                             {fixtureRun().string()});
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

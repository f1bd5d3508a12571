// `attnscope-cli anchors` as a user runs it: help, the bundled story on the organism (trace, then the run again),
// JSON traces, and bad input as one sentence with exit 2.
#include "store/run_reader.hpp"
#include "support/cli_runner.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>

#include <fstream>

using namespace attnscope;

namespace {
std::string organism() {
    return (test::resourcesDir() / "models/organism").string();
}
std::string story() {
    return (test::resourcesDir() / "prompts/anchors_story.txt").string();
}
} // namespace

TEST(CliAnchors, HelpListsTheOptions) {
    const auto r = test::runCli({"anchors", "--help"});
    EXPECT_EQ(r.code, 0);
    for (const char* option : {"Usage", "MODEL_OR_RUN", "--trace", "--out", "--model", "--top", "--only-first"})
        EXPECT_NE(r.out.find(option), std::string::npos) << option;
}

TEST(CliAnchors, WritesWhiteBoxAndSuppressionThenRedoesTheRun) {
    const auto dir = test::scratchDir("cli_anchors");
    const std::string run = (dir / "story.attn.h5").string();
    auto r = test::runCli({"anchors", organism(), "--trace", story(), "--out", run});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("11 sentences"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("suppression effect"), std::string::npos) << r.out;
    {
        core::RunReader reader(run);
        const auto names = reader.summary().analyses;
        EXPECT_NE(std::find(names.begin(), names.end(), "anchors"), names.end());
        EXPECT_NE(std::find(names.begin(), names.end(), "anchors_suppression"), names.end());
        EXPECT_EQ(reader.analysis("anchors_suppression").dataset("matrix")->shape, (std::vector<int64_t>{11, 11}));
    }
    r = test::runCli({"anchors", run, "--model", organism(), "--top", "2"});
    ASSERT_EQ(r.code, 0) << r.err;
    // The re-run reads the stored analysis: the fact every later answer needs tops both lists.
    EXPECT_NE(r.out.find("#1 "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Mia hid the key in the blue box ."), std::string::npos) << r.out;
}

TEST(CliAnchors, BadInputIsOneSentence) {
    const auto dir = test::scratchDir("cli_anchors_bad");
    test::expectOneSentenceError(test::runCli({"anchors", organism()}), "--trace");
    test::expectOneSentenceError(test::runCli({"anchors", (dir / "none.h5").string()}), "none.h5");
    const std::string bad = (dir / "bad.json").string();
    std::ofstream(bad) << "{\"prompt\": \"x\"}";
    test::expectOneSentenceError(test::runCli({"anchors", organism(), "--trace", bad}), "bad.json");
    const std::string shortTrace = (dir / "short.txt").string();
    std::ofstream(shortTrace) << "Mia hid the key in the blue box .";
    test::expectOneSentenceError(
        test::runCli({"anchors", organism(), "--trace", shortTrace, "--out", (dir / "s.h5").string()}), "short.txt");
    EXPECT_FALSE(std::filesystem::exists(dir / "s.h5"));
}

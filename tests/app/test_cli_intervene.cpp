// `attnscope-cli ablate`, `calibrate` and `capture --edits` as a user runs them on the bundled organism: results in
// the run file, tables on stdout, and bad input (malformed edits, heads outside the model, missing files, bad task
// lines) as one sentence with exit 2.
#include "store/run_reader.hpp"
#include "support/cli_runner.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

using namespace attnscope;

namespace {

using test::expectOneSentenceError;
using test::runCli;

std::string organism() { return (test::resourcesDir() / "models" / "organism").string(); }

std::string writeFile(const std::filesystem::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
}

const char* kStory = "Mia hid the key in the blue box . Tom went to the library . frog cloud soft danced apple sky "
                     "frog cloud soft danced apple sky . The dog ran by the river .";

} // namespace

TEST(CliIntervene, AblateSweepWritesPerHeadResultsToTheRun) {
    const auto dir = test::scratchDir("cli-ablate");
    const std::string text = writeFile(dir / "story.txt", kStory);
    const std::string run = (dir / "story.attn.h5").string();
    const auto r = runCli({"ablate", organism(), "--text", text, "--sweep", "--top-k", "2", "--seeds", "3",
                           "--threads", "1", "--out", run});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("sweep of 32 heads"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("95% CI"), std::string::npos) << r.out;
    core::RunReader reader(run);
    const core::AnalysisResult a = reader.analysis("ablation");
    ASSERT_NE(a.dataset("kl"), nullptr);
    EXPECT_EQ(a.dataset("kl")->shape, (std::vector<int64_t>{4, 8}));
    ASSERT_NE(a.parameter("edits"), nullptr);
    EXPECT_NO_THROW(nlohmann::json::parse(std::get<std::string>(*a.parameter("edits"))));
    // A second experiment on the same text joins the same run; a different text is refused.
    const auto again = runCli({"ablate", organism(), "--text", text, "--heads", "2.0,2.5", "--method", "uniform",
                               "--threads", "1", "--out", run});
    EXPECT_EQ(again.code, 0) << again.err;
    const std::string other = writeFile(dir / "other.txt", "The dog ran .");
    expectOneSentenceError(runCli({"ablate", organism(), "--text", other, "--heads", "1.1", "--out", run}),
                           "holds other tokens");
}

TEST(CliIntervene, CalibrateScreensHeadsAndItsEditsCaptureACalibratedRun) {
    const auto dir = test::scratchDir("cli-calibrate");
    const std::string task = writeFile(dir / "task.tsv", "Tom went to the library . Tom went to the\t library\n"
                                                         "frog cloud soft danced frog cloud soft\t danced\n");
    const std::string edits = (dir / "act.json").string();
    const auto r = runCli({"calibrate", organism(), "--task", task, "--screen", "--threads", "1", "--edits-out",
                           edits, "--out", (dir / "cal.attn.h5").string()});
    ASSERT_EQ(r.code, 0) << r.err;
    for (const char* part : {"before", "after", "heads calibrated", "2.0"})
        EXPECT_NE(r.out.find(part), std::string::npos) << part << "\n" << r.out;
    EXPECT_NO_THROW(core::RunReader(dir / "cal.attn.h5").analysis("calibration"));
    // Explicit heads and parameters, then the capture of a calibrated run from an edits file.
    const std::string act = writeFile(dir / "explicit.json", R"({"edits": [{"type": "act", "heads": ["2.0", "1.3"],
        "beta": 0.5, "threshold": 0.1}]})");
    const std::string run = (dir / "edited.attn.h5").string();
    const auto c = runCli({"capture", organism(), "--prompt", kStory, "--edits", act, "--threads", "1", "--out", run});
    ASSERT_EQ(c.code, 0) << c.err;
    const core::AnalysisResult stored = core::RunReader(run).analysis("edits");
    EXPECT_NE(std::get<std::string>(*stored.parameter("edits")).find("\"1.3\""), std::string::npos);
}

TEST(CliIntervene, BadInputIsOneSentenceWithExitTwo) {
    const auto dir = test::scratchDir("cli-intervene-bad");
    const std::string text = writeFile(dir / "story.txt", kStory);
    const std::string bad = writeFile(dir / "bad.json", "{\"edits\": [");
    const std::string unknown = writeFile(dir / "unknown.json", R"({"edits": [{"type": "ablate", "method": "melt",
        "heads": ["1.1"]}]})");
    const std::string far = writeFile(dir / "far.json", R"({"edits": [{"type": "ablate", "method": "zero",
        "heads": ["7.1"]}]})");
    const std::string out = (dir / "x.attn.h5").string();
    expectOneSentenceError(runCli({"capture", organism(), "--prompt", "hi", "--edits", bad, "--out", out}),
                           "are not valid JSON");
    expectOneSentenceError(runCli({"capture", organism(), "--prompt", "hi", "--edits", unknown, "--out", out}),
                           "unknown ablation method 'melt'");
    expectOneSentenceError(runCli({"capture", organism(), "--prompt", "hi", "--edits", far, "--out", out}),
                           "Head 7.1 is outside the model");
    expectOneSentenceError(runCli({"capture", organism(), "--prompt", "hi", "--edits", (dir / "none.json").string()}),
                           "Cannot read the edits file");
    expectOneSentenceError(runCli({"ablate", organism(), "--text", text, "--heads", "9.1"}),
                           "Head 9.1 is outside the model");
    expectOneSentenceError(runCli({"ablate", organism(), "--text", text, "--heads", "1.x"}), "not of the form");
    expectOneSentenceError(runCli({"ablate", organism(), "--text", (dir / "none.txt").string(), "--sweep"}),
                           "Cannot read the text file");
    expectOneSentenceError(runCli({"ablate", organism(), "--text", text, "--heads", "1.1", "--method", "melt"}),
                           "Unknown ablation method 'melt'");
    expectOneSentenceError(runCli({"ablate", organism(), "--text", text, "--heads", "1.1", "--method", "resample"}),
                           "needs a reference text");
    expectOneSentenceError(runCli({"ablate", organism(), "--text", text}), "--sweep");
    const std::string task = writeFile(dir / "task.tsv", "a prompt without a tab\n");
    expectOneSentenceError(runCli({"calibrate", organism(), "--task", task}), "Line 1 of the task file");
    const std::string good = writeFile(dir / "good.tsv", "The dog ran\t .\n");
    expectOneSentenceError(runCli({"calibrate", organism(), "--task", good, "--beta", "2"}), "beta must lie in");
    expectOneSentenceError(runCli({"calibrate", organism(), "--task", good, "--heads", "4.0"}),
                           "Head 4.0 is outside the model");
}

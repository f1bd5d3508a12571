// `attnscope-cli anchors ... --rollouts N`: black-box counterfactual resampling on the organism's story, stored as
// /analysis/anchors_resampling and printed in the JSON; the same seed gives the same rollouts from a trace and from
// its run; bad resampling settings are one sentence with exit 2, before anything is captured.
#include "store/run_reader.hpp"
#include "support/cli_runner.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>

using namespace attnscope;

namespace {

std::string organism() {
    return (test::resourcesDir() / "models/organism").string();
}
std::string story() {
    return (test::resourcesDir() / "prompts/anchors_story.txt").string();
}

// A small budget: 4 rollouts and 4 forced answers of at most 6 tokens per sentence (88 short generations).
std::vector<std::string> resampling(std::vector<std::string> args) {
    for (const char* a : {"--rollouts", "4", "--max-new-tokens", "6", "--answer-regex", R"(In the (\w+) \w+ \.)",
                          "--force-answer", " Where did Mia hide the key ? In the", "--seed", "3"})
        args.push_back(a);
    return args;
}

} // namespace

TEST(CliAnchorsResampling, HelpListsTheOptions) {
    const auto r = test::runCli({"anchors", "--help"});
    EXPECT_EQ(r.code, 0);
    for (const char* option : {"--question", "--rollouts", "--temperature", "--top-p", "--max-new-tokens",
                               "--answer-regex", "--answer", "--similarity", "--force-answer", "--seed"})
        EXPECT_NE(r.out.find(option), std::string::npos) << option;
}

TEST(CliAnchorsResampling, StoresAndPrintsTheImportance) {
    const auto dir = test::scratchDir("cli_anchors_resampling");
    const std::string run = (dir / "story.attn.h5").string();
    auto r = test::runCli(resampling({"anchors", organism(), "--trace", story(), "--out", run, "--json"}));
    ASSERT_EQ(r.code, 0) << r.err;
    const nlohmann::json j = nlohmann::json::parse(r.out);
    const nlohmann::json& rs = j.at("resampling");
    EXPECT_EQ(rs.at("parameters").at("rollouts").get<int64_t>(), 4);
    EXPECT_EQ(rs.at("parameters").at("expected_answer").get<std::string>(), "blue");
    EXPECT_DOUBLE_EQ(rs.at("parameters").at("top_p").get<double>(), 0.95);
    ASSERT_EQ(rs.at("sentences").size(), 11u);

    core::RunReader reader(run);
    const core::AnalysisResult stored = reader.analysis("anchors_resampling");
    for (const char* name : {"accuracy", "counterfactual_importance_kl", "forced_answer_accuracy",
                             "forced_importance_accuracy", "different_trajectories_fraction"}) {
        const auto values = stored.dataset(name)->toDoubles();
        ASSERT_EQ(values.size(), 11u) << name;
        for (size_t i = 0; i < 11; ++i) {
            const nlohmann::json& v = rs.at("sentences")[i].at(name);
            if (std::isfinite(values[i]))
                EXPECT_DOUBLE_EQ(v.get<double>(), values[i]) << name << " " << i;
            else
                EXPECT_TRUE(v.is_null()) << name << " " << i;
        }
    }
    EXPECT_EQ(stored.dataset("rollout_answer")->shape, (std::vector<int64_t>{44}));
    EXPECT_EQ(stored.dataset("rollout_similarity")->shape, (std::vector<int64_t>{11, 4}));
    // Known answer (test_resampling_organism): the forced answer keeps the fact's colour only when the fact is kept.
    const auto forced = stored.dataset("forced_answer_accuracy")->toDoubles();
    EXPECT_LT(forced[1], forced[4]);

    // The run again, from the file: the same seed gives the same rollouts and numbers; the table names the score.
    r = test::runCli(resampling({"anchors", run, "--json"}));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out).at("resampling").at("sentences"), rs.at("sentences"));
    r = test::runCli(resampling({"anchors", run, "--top", "2"}));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("counterfactual importance"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("anchors_resampling"), std::string::npos) << r.out;
}

TEST(CliAnchorsResampling, BadSettingsAreOneSentence) {
    const auto dir = test::scratchDir("cli_anchors_resampling_bad");
    const std::string run = (dir / "s.attn.h5").string();
    const std::vector<std::string> base{"anchors", organism(), "--trace", story(), "--out", run};
    auto with = [&](std::vector<std::string> extra) {
        std::vector<std::string> args = base;
        args.insert(args.end(), extra.begin(), extra.end());
        return test::runCli(args);
    };
    test::expectOneSentenceError(with({"--rollouts", "-1"}), "--rollouts");
    test::expectOneSentenceError(with({"--rollouts", "2", "--answer-regex", "(unclosed"}), "(unclosed");
    test::expectOneSentenceError(with({"--rollouts", "2", "--answer-regex", "a*"}), "empty");
    test::expectOneSentenceError(with({"--rollouts", "2", "--top-p", "0"}), "--top-p");
    test::expectOneSentenceError(with({"--rollouts", "2", "--temperature", "0"}), "--temperature");
    test::expectOneSentenceError(with({"--rollouts", "2", "--similarity", "1.5"}), "--similarity");
    test::expectOneSentenceError(with({"--rollouts", "2", "--max-new-tokens", "0"}), "--max-new-tokens");
    test::expectOneSentenceError(with({"--question", (dir / "missing.txt").string()}), "missing.txt");
    EXPECT_FALSE(std::filesystem::exists(run)) << "nothing is captured before the settings are checked";
}

// `attnscope-cli anchors ... --json`: stdout is one JSON document whose sentences, receiver heads, broadcast scores,
// suppression matrix and effects are the ones written to the run file.
#include "store/run_reader.hpp"
#include "support/cli_runner.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>

using namespace attnscope;

namespace {

void expectSame(const nlohmann::json& v, double stored, const std::string& what) {
    if (!std::isfinite(stored)) {
        EXPECT_TRUE(v.is_null()) << what;
        return;
    }
    ASSERT_TRUE(v.is_number()) << what;
    EXPECT_DOUBLE_EQ(v.get<double>(), stored) << what;
}

} // namespace

TEST(CliAnchorsJson, PrintsTheRunFilesResults) {
    const auto dir = test::scratchDir("cli_anchors_json");
    const std::string run = (dir / "story.attn.h5").string();
    const auto r =
        test::runCli({"anchors", (test::resourcesDir() / "models/organism").string(), "--trace",
                      (test::resourcesDir() / "prompts/anchors_story.txt").string(), "--out", run, "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    nlohmann::json j;
    ASSERT_NO_THROW(j = nlohmann::json::parse(r.out)) << r.out;

    core::RunReader reader(run);
    const core::AnalysisResult white = reader.analysis("anchors"), supp = reader.analysis("anchors_suppression");
    const auto texts = std::get<std::vector<std::string>>(white.dataset("sentence_text")->values);
    const auto broadcast = white.dataset("broadcast")->toDoubles(), effect = supp.dataset("effect")->toDoubles(),
               matrix = supp.dataset("matrix")->toDoubles(), tokens = white.dataset("sentence_tokens")->toDoubles(),
               heads = white.dataset("receiver_heads")->toDoubles();
    const size_t N = texts.size();
    ASSERT_EQ(N, 11u);
    EXPECT_EQ(j.at("file").get<std::string>(), run);

    const nlohmann::json& sentences = j.at("sentences");
    ASSERT_EQ(sentences.size(), N);
    for (size_t i = 0; i < N; ++i) {
        const nlohmann::json& s = sentences[i];
        EXPECT_EQ(s.at("index").get<size_t>(), i);
        EXPECT_EQ(s.at("text").get<std::string>(), texts[i]);
        EXPECT_EQ(s.at("tokens")[0].get<int64_t>(), int64_t(tokens[2 * i]));
        EXPECT_EQ(s.at("tokens")[1].get<int64_t>(), int64_t(tokens[2 * i + 1]));
        expectSame(s.at("broadcast"), broadcast[i], "broadcast " + std::to_string(i));
        expectSame(s.at("suppression_effect"), effect[i], "effect " + std::to_string(i));
    }
    const nlohmann::json& receivers = j.at("receiver_heads");
    ASSERT_EQ(receivers.size() * 2, heads.size());
    ASSERT_FALSE(receivers.empty());
    EXPECT_EQ(receivers[0].at("layer").get<int64_t>(), int64_t(heads[0]));
    EXPECT_EQ(receivers[0].at("head").get<int64_t>(), int64_t(heads[1]));

    const nlohmann::json& s = j.at("suppression");
    ASSERT_EQ(s.at("matrix").size(), N);
    for (size_t a = 0; a < N; ++a) {
        ASSERT_EQ(s.at("matrix")[a].size(), N);
        for (size_t b = 0; b < N; ++b)
            expectSame(s.at("matrix")[a][b], matrix[a * N + b],
                       "matrix " + std::to_string(a) + "," + std::to_string(b));
    }
    ASSERT_EQ(s.at("effect").size(), N);
    EXPECT_EQ(s.at("parameters").at("take_log").get<int64_t>(), 1);
    EXPECT_FALSE(j.at("white_box").at("parameters").empty());
}

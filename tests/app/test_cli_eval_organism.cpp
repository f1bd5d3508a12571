// `attnscope-cli eval-organism` as a user runs it: a small evaluation of the committed organism in both output forms,
// answers counted per question kind, and a model that is no organism as one sentence with exit 2.
#include "support/cli_runner.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>

using namespace attnscope;

namespace {
std::string organism() {
    return (test::resourcesDir() / "models/organism").string();
}
} // namespace

// 40 far questions and 5 spans: the wiring, not the statistics (test_organism_known_answers.cpp has those).
TEST(CliEvalOrganism, JsonCountsAnswersPerKindAndTheSummarySaysThemToo) {
    const auto j = test::runCli({"eval-organism", organism(), "--questions", "40", "--repeats", "5", "--json"});
    ASSERT_EQ(j.code, 0) << j.err;
    const auto e = nlohmann::json::parse(j.out);
    EXPECT_EQ(e["questions"], 40);
    int64_t asked = 0, answered = 0;
    for (const char* kind : {"hide", "go", "give", "colour"}) {
        ASSERT_TRUE(e["answers_by_kind"].contains(kind)) << kind;
        const auto& k = e["answers_by_kind"][kind];
        EXPECT_LE(k["answered"].get<int64_t>(), k["questions"].get<int64_t>()) << kind;
        EXPECT_GE(k["retrieval_head"]["layer"].get<int64_t>(), 0) << kind;
        EXPECT_LE(k["retrieval_head"]["value"].get<double>(), 1.0) << kind;
        asked += k["questions"].get<int64_t>();
        answered += k["answered"].get<int64_t>();
    }
    EXPECT_EQ(asked, 40);
    EXPECT_NEAR(double(answered) / 40.0, e["answer_accuracy"].get<double>(), 1e-12);
    EXPECT_EQ(e["retrieval_top1"].size(), 4u); // [L][H]

    const auto s = test::runCli({"eval-organism", organism(), "--questions", "40", "--repeats", "5"});
    ASSERT_EQ(s.code, 0) << s.err;
    for (const char* line : {"answers 200 tokens or more back", "by question (and its best retrieval head): colour ",
                             "retrieval head L", "induction head L", "sink head L"})
        EXPECT_NE(s.out.find(line), std::string::npos) << line << "\n" << s.out;
}

TEST(CliEvalOrganism, AModelThatIsNoOrganismIsOneSentence) {
    ATTNSCOPE_REQUIRE_SHARED();
    const auto gguf = test::stories260KDir() / "stories260K.gguf";
    const auto r = test::runCli({"eval-organism", gguf.string(), "--questions", "1"});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("not the organism's"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

// `attnscope-cli mask-retrieval` as a user runs it: help, a small run on the committed organism writing its JSON, and
// bad parameters as one sentence with exit 2.
#include "support/cli_runner.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace attnscope;

namespace {
std::string organism() {
    return (test::resourcesDir() / "models/organism").string();
}
} // namespace

TEST(CliMaskRetrieval, HelpListsTheOptions) {
    const auto r = test::runCli({"mask-retrieval", "--help"});
    EXPECT_EQ(r.code, 0);
    for (const char* option :
         {"Usage", "MODEL", "--k", "--seeds", "--seed", "--method", "--lengths", "--depths", "--needles", "--haystack",
          "--no-haystack", "--organism", "--questions", "--out", "--json"})
        EXPECT_NE(r.out.find(option), std::string::npos) << option;
}

// One needle length, 20 questions, 2 draws: the wiring, not the statistics (test_retrieval_masking.cpp has those).
TEST(CliMaskRetrieval, PrintsTheTableAndWritesJson) {
    const auto dir = test::scratchDir("mask_retrieval");
    const std::string out = (dir / "mask.json").string();
    const auto r = test::runCli({"mask-retrieval", organism(), "--k", "2", "--seeds", "2", "--lengths", "350",
                                 "--depths", "50", "--questions", "20", "--out", out});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("top      "), std::string::npos) << r.out;
    const auto j = nlohmann::json::parse(test::readBinary<char>(out));
    EXPECT_EQ(j["experiment"], "retrieval_masking");
    // Measured: L3H2 0.667, then L2H2 and L2H5 tied at 0.333; the tie keeps (layer, head) order, as the reference's
    // stable ranking of every head.
    ASSERT_EQ(j["top"]["heads"].size(), 2u);
    EXPECT_EQ(j["top"]["heads"][0], "3.2");
    EXPECT_EQ(j["top"]["heads"][1], "2.2");
    EXPECT_EQ(j["random"].size(), 2u);
    EXPECT_EQ(j["baseline"]["organism"]["questions"], 20);
    EXPECT_EQ(j["baseline"]["haystack"]["tests"], 3);
    EXPECT_TRUE(j["random_summary"].contains("organism_accuracy"));
}

TEST(CliMaskRetrieval, BadParametersAreOneSentence) {
    test::expectOneSentenceError(test::runCli({"mask-retrieval", organism(), "--k", "40", "--lengths", "350",
                                               "--depths", "50", "--organism", "off"}),
                                 "Cannot mask 40 heads");
    const auto r = test::runCli({"mask-retrieval", organism(), "--k", "0"});
    EXPECT_EQ(r.code, 2);
}

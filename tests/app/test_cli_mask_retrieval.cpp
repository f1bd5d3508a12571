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
          "--no-haystack", "--organism", "--questions", "--out", "--json", "--exclude"})
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

// --exclude keeps heads out of the random draws: with every head but two kept out, each draw is exactly the two left.
TEST(CliMaskRetrieval, ExcludedHeadsAreNeverDrawn) {
    const auto dir = test::scratchDir("mask_retrieval_exclude");
    const std::string out = (dir / "mask.json").string();
    const auto r =
        test::runCli({"mask-retrieval", organism(), "--k", "2", "--seeds", "2", "--lengths", "350", "--depths", "50",
                      "--organism", "off", "--exclude", "0.*,1.0,1.1,1.2,1.3,1.4,1.5,2.*,3.*", "--out", out});
    ASSERT_EQ(r.code, 0) << r.err;
    const auto j = nlohmann::json::parse(test::readBinary<char>(out));
    EXPECT_EQ(j["params"]["kept_out_of_random"], "0.*,1.0,1.1,1.2,1.3,1.4,1.5,2.*,3.*");
    for (const auto& draw : j["random"])
        EXPECT_EQ(draw["heads"], nlohmann::json::array({"1.6", "1.7"})) << draw;
    // Keeping out every head leaves nothing to draw; a head outside the model is named.
    test::expectOneSentenceError(test::runCli({"mask-retrieval", organism(), "--lengths", "350", "--depths", "50",
                                               "--organism", "off", "--exclude", "0.*,1.*,2.*,3.*"}),
                                 "too few to draw");
    test::expectOneSentenceError(test::runCli({"mask-retrieval", organism(), "--lengths", "350", "--depths", "50",
                                               "--organism", "off", "--exclude", "9.1"}),
                                 "9.1");
}

TEST(CliMaskRetrieval, BadParametersAreOneSentence) {
    test::expectOneSentenceError(test::runCli({"mask-retrieval", organism(), "--k", "40", "--lengths", "350",
                                               "--depths", "50", "--organism", "off"}),
                                 "Cannot mask 40 heads");
    const auto r = test::runCli({"mask-retrieval", organism(), "--k", "0"});
    EXPECT_EQ(r.code, 2);
}

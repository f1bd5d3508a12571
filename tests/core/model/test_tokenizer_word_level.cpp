// WordLevel models from tokenizer.json, with the Whitespace and WhitespaceSplit pre-tokenizers.
#include "errors.hpp"
#include "model/tokenizer.hpp"
#include "tokenizer_checks.hpp"

#include <gtest/gtest.h>

using namespace attnscope;
using core::Encoding;
using Spans = std::vector<std::pair<int64_t, int64_t>>;
using Ids = std::vector<int32_t>;

namespace {

// The wordlevel_tiny vocabulary with another pre-tokenizer and unk_token, written to a scratch folder.
std::filesystem::path variant(const std::string& preTokenizer, const std::string& unk) {
    const auto dir = test::scratchDir("wordlevel");
    test::writeText(dir / "tokenizer.json",
                    R"({"added_tokens": [], "normalizer": null, "pre_tokenizer": )" + preTokenizer +
                        R"(, "post_processor": null, "decoder": null, "model": {"type": "WordLevel", "vocab": )"
                        R"({"[UNK]": 0, "the": 1, "cat": 2, "sat": 3, ".": 4}, "unk_token": )" +
                        unk + "}}");
    return dir;
}

} // namespace

// wordlevel_tiny: [UNK] 0, the 1, cat 2, sat 3, "." 4; Whitespace pre-tokenizer (\w+|[^\w\s]+).
TEST(TokenizerWordLevel, WhitespacePreTokenizer) {
    const auto tok = core::loadHfTokenizer(test::tokenizerFixture("wordlevel_tiny"));
    EXPECT_EQ(tok->kind(), "word-level");
    EXPECT_EQ(tok->vocabSize(), 5);
    EXPECT_EQ(tok->bosId(), -1);
    const std::string text = "the cat  sat.";
    const Encoding e = tok->encode(text);
    EXPECT_EQ(e.ids, (Ids{1, 2, 3, 4}));
    EXPECT_EQ(test::spanPairs(e), (Spans{{0, 3}, {4, 7}, {9, 12}, {12, 13}})); // whitespace belongs to no token
    EXPECT_EQ(tok->decode(e.ids), "the cat sat ."); // HF joins words with spaces when there is no decoder
    EXPECT_EQ(tok->encode("the dog").ids, (Ids{1, 0}));
    EXPECT_EQ(tok->piece(2), "cat");
}

TEST(TokenizerWordLevel, WhitespaceSplitKeepsPunctuation) {
    const auto tok = core::loadHfTokenizer(variant(R"({"type": "WhitespaceSplit"})", R"("[UNK]")"));
    // "sat." is one word, not in the vocabulary.
    EXPECT_EQ(tok->encode("the\tcat\n sat.").ids, (Ids{1, 2, 0}));
}

TEST(TokenizerWordLevel, UnknownWordWithoutUnkTokenIsAnError) {
    const auto dir = variant(R"({"type": "Whitespace"})", "null");
    const auto tok = core::loadHfTokenizer(dir);
    EXPECT_EQ(tok->encode("the cat").ids, (Ids{1, 2}));
    EXPECT_THROW_NAMING(tok->encode("the dog"), core::ArgumentError, (dir / "tokenizer.json").string());
}

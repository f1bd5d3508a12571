// makeGgufTokenizer(): "gpt2" byte-level vocabularies, and vocabularies it refuses.
#include "errors.hpp"
#include "model/tokenizer.hpp"
#include "model/vocab_data.hpp"
#include "tokenizer_checks.hpp"

#include <gtest/gtest.h>

using namespace attnscope;
using Ids = std::vector<int32_t>;

namespace {

// The gpt2_tiny fixture's vocabulary as a GGUF stores it; <|endoftext|> is a control token (type 3).
core::GgufVocab gpt2Vocab() {
    core::GgufVocab v;
    v.model = "gpt2";
    v.tokens = {"H",  "e",   "l",    "o",  "w",      "r",    "d",
                "Ġ",  "'",   "4",    "2",  "a",      "b",    "c",
                "Ċ",  "Ã",   "©",    "ll", "ell",    "Hell", "Hello",
                "Ġw", "or",  "Ġwor", "ld", "Ġworld", "'r",   "'re",
                "Ġ4", "Ġ42", "bc",   "ab", "ĠĠ",     "Ã©",   "<|endoftext|>"};
    v.merges = {"l l", "e ll", "H ell", "Hell o", "Ġ w", "o r", "Ġw or", "l d", "Ġwor ld",
                "' r", "'r e", "Ġ 4",   "Ġ4 2",   "b c", "a b", "Ġ Ġ",   "Ã ©"};
    v.tokenTypes.assign(v.tokens.size(), 1);
    v.tokenTypes.back() = 3;
    v.bosId = 34;
    v.eosId = 34;
    v.addBos = false;
    v.addSpacePrefix = false;
    return v;
}

} // namespace

TEST(TokenizerGguf, Gpt2VocabularyIsByteLevelBpe) {
    const auto tok = core::makeGgufTokenizer(gpt2Vocab(), "tiny-gpt2.gguf");
    EXPECT_EQ(tok->kind(), "byte-level-bpe");
    EXPECT_EQ(tok->vocabSize(), 35);
    EXPECT_EQ(tok->bosId(), 34);
    // Same answers as the tokenizer.json fixture (test_tokenizer_byte_level.cpp).
    const std::string text = "Hello world<|endoftext|>abc";
    const core::Encoding e = tok->encode(text);
    EXPECT_EQ(e.ids, (Ids{20, 25, 34, 11, 30}));
    EXPECT_TRUE(test::spansTileText(e, text));
    EXPECT_EQ(tok->decode(e.ids), "Hello worldabc");
    EXPECT_EQ(tok->decode(e.ids, false), text);
}

TEST(TokenizerGguf, Gpt2AddBosPrependsBos) {
    auto v = gpt2Vocab();
    v.addBos = true;
    const auto tok = core::makeGgufTokenizer(v, "tiny-gpt2.gguf");
    EXPECT_EQ(tok->encode("Hello").ids, (Ids{34, 20}));
    EXPECT_EQ(tok->encode("Hello", false).ids, (Ids{20}));
}

TEST(TokenizerGguf, RefusedVocabulariesNameTheFile) {
    auto bert = gpt2Vocab();
    bert.model = "bert";
    EXPECT_THROW_NAMING(core::makeGgufTokenizer(bert, "/m/bert.gguf"), core::UnsupportedError, "/m/bert.gguf");
    auto noMerges = gpt2Vocab();
    noMerges.merges.clear();
    EXPECT_THROW_NAMING(core::makeGgufTokenizer(noMerges, "/m/a.gguf"), core::FormatError, "/m/a.gguf");
    auto badMerge = gpt2Vocab();
    badMerge.merges.push_back("x y");
    EXPECT_THROW_NAMING(core::makeGgufTokenizer(badMerge, "/m/b.gguf"), core::FormatError, "/m/b.gguf");
    auto oneToken = gpt2Vocab();
    oneToken.merges.push_back("Hello");
    EXPECT_THROW_NAMING(core::makeGgufTokenizer(oneToken, "/m/c.gguf"), core::FormatError, "/m/c.gguf");
    core::GgufVocab empty;
    empty.model = "gpt2";
    EXPECT_THROW_NAMING(core::makeGgufTokenizer(empty, "/m/d.gguf"), core::FormatError, "/m/d.gguf");
}

// Byte-level BPE from tokenizer.json: GPT-2, Llama 3 and Qwen2 style fixtures (tests/data/tokenizers), and the
// GPT-2 regex pre-tokenizer on its own.
#include "errors.hpp"
#include "model/hf_pre_tokenizer.hpp"
#include "model/tokenizer.hpp"
#include "tokenizer_checks.hpp"

#include <gtest/gtest.h>

using namespace attnscope;
using core::Encoding;
using Spans = std::vector<std::pair<int64_t, int64_t>>;
using Ids = std::vector<int32_t>;

namespace {

// Words of the GPT-2 pre-tokenizer, shown in byte-level spelling (space "Ġ", newline "Ċ").
std::vector<std::string> gpt2Words(const std::string& text) {
    const auto pre = core::HfPreTokenizer::gpt2ByteLevel("gpt2-regex");
    std::vector<std::string> out;
    for (const auto& w : pre->split(core::OffsetText(text, 0, static_cast<int64_t>(text.size()))))
        out.push_back(w.text());
    return out;
}

} // namespace

TEST(TokenizerByteLevel, Gpt2RegexSplitsContractionsNumbersAndWhitespaceRuns) {
    using W = std::vector<std::string>;
    EXPECT_EQ(gpt2Words("we're"), (W{"we", "'re"}));
    EXPECT_EQ(gpt2Words("it's 2024"), (W{"it", "'s", "Ġ2024"}));
    // "\s+(?!\S)" takes a run of spaces but the last, which joins the next word.
    EXPECT_EQ(gpt2Words("a   b"), (W{"a", "ĠĠ", "Ġb"}));
    EXPECT_EQ(gpt2Words("x\n\n"), (W{"x", "ĊĊ"}));
    EXPECT_EQ(gpt2Words("hi!! ok"), (W{"hi", "!!", "Ġok"}));
    EXPECT_EQ(gpt2Words("caf\xC3\xA9 42x"), (W{"caf\xC3\x83\xC2\xA9", "Ġ42", "x"})); // é's bytes C3 A9 are "Ã©"
}

TEST(TokenizerByteLevel, Gpt2RegexSurvivesInvalidUtf8AndLongRuns) {
    // Invalid bytes never match, so they stay as words of their own; nothing is lost.
    const auto words = gpt2Words("a\xFF\xFE b");
    ASSERT_EQ(words.size(), 3u);
    EXPECT_EQ(words[0], "a");
    EXPECT_EQ(words[2], "Ġb");
    // A million spaces in one run: the JIT stack limit falls back to the interpreter instead of failing.
    const std::string spaces(1 << 20, ' ');
    const auto run = gpt2Words(spaces + "x");
    ASSERT_EQ(run.size(), 2u);
    EXPECT_EQ(run[1], "Ġx");
}

// gpt2_tiny: merges (rank order) "l l", "e ll", "H ell", "Hell o", "Ġ w", "o r", "Ġw or", "l d", "Ġwor ld", "' r",
// "'r e", "Ġ 4", "Ġ4 2", "b c", "a b", "Ġ Ġ", "Ã ©". Answers worked by hand, checked against tokenizers.js.
TEST(TokenizerByteLevel, Gpt2Fixture) {
    const auto tok = core::loadHfTokenizer(test::tokenizerFixture("gpt2_tiny"));
    EXPECT_EQ(tok->kind(), "byte-level-bpe");
    EXPECT_EQ(tok->vocabSize(), 35);
    EXPECT_EQ(tok->bosId(), 34); // tokenizer_config's bos_token
    EXPECT_EQ(tok->eosId(), 34);

    // "Hello": l l -> ll, e ll -> ell, H ell -> Hell, Hell o -> Hello. " world" spans its space too.
    Encoding e = tok->encode("Hello world"); // GPT-2 adds no BOS
    EXPECT_EQ(e.ids, (Ids{20, 25}));
    EXPECT_EQ(e.pieces, (std::vector<std::string>{"Hello", " world"}));
    EXPECT_EQ(test::spanPairs(e), (Spans{{0, 5}, {5, 11}}));

    // Merge order matters: "b c" (rank 13) beats "a b" (rank 14), so "abc" is a + bc; greedy longest-prefix
    // matching would give ab + c.
    EXPECT_EQ(tok->encode("abc").ids, (Ids{11, 30}));

    // Words "we", "'re", " 42"; there is no merge for "w e".
    EXPECT_EQ(tok->encode("we're 42").ids, (Ids{4, 1, 27, 29}));

    // Words "a", "  \n", " b": Ġ Ġ merges, Ċ stays; "Ġ b" has no merge.
    e = tok->encode("a  \n b");
    EXPECT_EQ(e.ids, (Ids{11, 32, 14, 7, 12}));
    EXPECT_EQ(test::spanPairs(e), (Spans{{0, 1}, {1, 3}, {3, 4}, {4, 5}, {5, 6}}));

    // é is two bytes, merged into one token whose piece is the whole character.
    e = tok->encode("\xC3\xA9");
    EXPECT_EQ(e.ids, (Ids{33}));
    EXPECT_EQ(e.pieces[0], "\xC3\xA9");
    EXPECT_EQ(test::spanPairs(e), (Spans{{0, 2}}));
    EXPECT_EQ(tok->piece(15), "\xC3"); // half a character on its own
}

TEST(TokenizerByteLevel, Gpt2FixtureAddedTokensAndRoundTrip) {
    const auto tok = core::loadHfTokenizer(test::tokenizerFixture("gpt2_tiny"));
    const std::string text = "Hello<|endoftext|>world";
    const Encoding e = tok->encode(text);
    // "world" without a space: w, o r -> or, l d -> ld, and no "w or" merge.
    EXPECT_EQ(e.ids, (Ids{20, 34, 4, 22, 24}));
    EXPECT_EQ(test::spanPairs(e), (Spans{{0, 5}, {5, 18}, {18, 19}, {19, 21}, {21, 23}}));
    EXPECT_EQ(tok->decode(e.ids), "Helloworld");
    EXPECT_EQ(tok->decode(e.ids, false), text);
    for (const std::string t : {"Hello world", "we're 42", "a  \n b", "\xC3\xA9", "abc"}) {
        const Encoding f = tok->encode(t);
        EXPECT_TRUE(test::spansTileText(f, t)) << t;
        EXPECT_EQ(tok->decode(f.ids), t);
    }
}

// llama3_tiny: Llama 3's Split regex then ByteLevel without regex; ignore_merges; merges as [a, b] arrays
// ["1","2"], ["12","3"], ["4","5"], ["Ċ","Ċ"]; <|begin_of_text|> (100) added by the template.
TEST(TokenizerByteLevel, Llama3Fixture) {
    const auto tok = core::loadHfTokenizer(test::tokenizerFixture("llama3_tiny"));
    EXPECT_EQ(tok->kind(), "byte-level-bpe");
    EXPECT_EQ(tok->vocabSize(), 102);
    EXPECT_EQ(tok->bosId(), 100);
    EXPECT_EQ(tok->eosId(), 101);

    // Words: "cat" (in the vocabulary: one token with no merge, ignore_merges), "'RE" (contractions ignore case,
    // but "'RE" is no token: ', R, E), " " (a space before digits stands alone), "123" and "45" (digits by threes).
    const std::string text = "cat'RE 12345";
    Encoding e = tok->encode(text);
    EXPECT_EQ(e.ids, (Ids{100, 4, 5, 6, 7, 0, 14, 15}));
    EXPECT_EQ(test::spanPairs(e), (Spans{{0, 0}, {0, 3}, {3, 4}, {4, 5}, {5, 6}, {6, 7}, {7, 10}, {10, 12}}));
    EXPECT_TRUE(test::spansTileText(e, text));
    EXPECT_EQ(tok->encode(text, false).ids, (Ids{4, 5, 6, 7, 0, 14, 15}));

    // "\n\n" is one word ("\s*[\r\n]+"), " cat" another, found whole in the vocabulary.
    e = tok->encode("a\n\nb cat");
    EXPECT_EQ(e.ids, (Ids{100, 2, 17, 18, 19}));
    EXPECT_EQ(tok->decode(e.ids), "a\n\nb cat");
    EXPECT_EQ(tok->decode(e.ids, false), "<|begin_of_text|>a\n\nb cat");
    EXPECT_EQ(tok->piece(100), "<|begin_of_text|>");
}

// qwen2_tiny: NFC normaliser, Qwen2's Split regex (single digits), chat tokens, no BOS.
TEST(TokenizerByteLevel, Qwen2Fixture) {
    const auto tok = core::loadHfTokenizer(test::tokenizerFixture("qwen2_tiny"));
    EXPECT_EQ(tok->bosId(), -1); // bos_token is null
    EXPECT_EQ(tok->eosId(), 20);

    const std::string chat = "<|im_start|>user\nhi<|im_end|>";
    Encoding e = tok->encode(chat);
    // u s -> us, us e -> use, use r -> user; "\n" alone; h i -> hi.
    EXPECT_EQ(e.ids, (Ids{21, 14, 6, 15, 22}));
    EXPECT_EQ(test::spanPairs(e), (Spans{{0, 12}, {12, 16}, {16, 17}, {17, 19}, {19, 29}}));
    EXPECT_EQ(tok->decode(e.ids), "user\nhi");
    EXPECT_EQ(tok->decode(e.ids, false), chat);

    // Qwen2 splits numbers into single digits, and the space before them stands alone.
    EXPECT_EQ(tok->encode("x 2024").ids, (Ids{7, 8, 10, 9, 10, 11}));
    EXPECT_EQ(tok->encode("x'S").ids, (Ids{7, 18})); // "'S" matches the case-insensitive contraction
}

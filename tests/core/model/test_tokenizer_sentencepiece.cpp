// SentencePiece BPE (GGUF "llama" vocabulary): stories260K against llama2.c run.c, and hand-made vocabularies.
#include "errors.hpp"
#include "model/gguf_file.hpp"
#include "model/tokenizer.hpp"
#include "model/vocab_data.hpp"
#include "tokenizer_checks.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>

using namespace attnscope;
using core::Encoding;
using core::Tokenizer;

namespace {

std::unique_ptr<Tokenizer> stories260K() {
    const auto path = test::stories260KDir() / "stories260K.gguf";
    return core::makeGgufTokenizer(core::GgufFile(path).vocab(), path.string());
}

// A tiny SentencePiece vocabulary: control tokens, three byte pieces, and pieces with scores.
core::GgufVocab handVocab() {
    core::GgufVocab v;
    v.model = "llama";
    v.tokens = {"<unk>",
                "<s>",
                "</s>",
                "<0x41>",
                "<0x0A>",
                "<0xC3>",
                "\xE2\x96\x81",
                "a",
                "b",
                "c",
                "ab",
                "bc",
                "\xE2\x96\x81"
                "a",
                "aa"};
    v.scores = {0, 0, 0, 0, 0, 0, -1, -2, -2, -2, -5, -1, -10, -1};
    v.tokenTypes = {2, 3, 3, 6, 6, 6, 1, 1, 1, 1, 1, 1, 1, 1};
    v.bosId = 1;
    v.eosId = 2;
    v.unkId = 0;
    return v;
}

} // namespace

TEST(TokenizerSentencePiece, Stories260KOnceUponATime) {
    ATTNSCOPE_REQUIRE_SHARED();
    const auto tok = stories260K();
    const std::string text = "Once upon a time";
    const Encoding e = tok->encode(text);
    EXPECT_EQ(e.ids, (std::vector<int32_t>{1, 403, 407, 261, 378}));
    EXPECT_EQ(e.pieces, (std::vector<std::string>{"<s>", " Once", " upon", " a", " time"}));
    // The dummy prefix stands for nothing, so " Once" covers "Once" only; BOS is empty at the start.
    EXPECT_EQ(test::spanPairs(e),
              (std::vector<std::pair<int64_t, int64_t>>{{0, 0}, {0, 4}, {4, 9}, {9, 11}, {11, 16}}));
    EXPECT_TRUE(test::spansTileText(e, text));
    EXPECT_EQ(tok->encode(text, false).ids, (std::vector<int32_t>{403, 407, 261, 378}));
    EXPECT_EQ(tok->kind(), "sentencepiece-bpe");
    EXPECT_EQ(tok->vocabSize(), 512);
    EXPECT_EQ(tok->bosId(), 1);
    EXPECT_EQ(tok->eosId(), 2);
}

// Expected ids from an independent re-implementation of run.c's encode() reading tok512.bin (not the GGUF):
// BOS, dummy " ", one piece per code point or its bytes as ids byte+3, then best-score merges, leftmost on ties.
TEST(TokenizerSentencePiece, Stories260KMatchesRunC) {
    ATTNSCOPE_REQUIRE_SHARED();
    const auto tok = stories260K();
    const std::vector<std::pair<std::string, std::vector<int32_t>>> cases = {
        {"", {1}},
        {"Tom and Tim", {1, 274, 287, 269, 326}},
        {"abc", {1, 261, 430, 429}},
        // "  " stays two spaces; "\n" has no piece of its own, so it is the byte token <0x0A> (id 13).
        {"  two  spaces\nnew line",
         {1, 410, 410, 259, 424, 414, 410, 262, 427, 412, 331, 419, 13, 416, 411, 424, 278, 271, 411}},
        // "é" is a piece (485); 日 and 本 are not, so they fall back to their three UTF-8 bytes each.
        {"Lily's caf\xC3\xA9 is \xE6\x97\xA5\xE6\x9C\xAC!",
         {1, 317, 439, 419, 280, 412, 431, 485, 410, 293, 410, 233, 154, 168, 233, 159, 175, 443}},
        {"x\xF0\x9F\x98\x80y", {1, 410, 444, 243, 162, 155, 131, 422}},
    };
    for (const auto& [text, ids] : cases) {
        const Encoding e = tok->encode(text);
        EXPECT_EQ(e.ids, ids) << text;
        EXPECT_TRUE(test::spansTileText(e, text)) << text;
        EXPECT_EQ(tok->decode(e.ids), text);
    }
    EXPECT_TRUE(tok->encode("", false).ids.empty());
}

TEST(TokenizerSentencePiece, Stories260KByteFallbackSpansEachByte) {
    ATTNSCOPE_REQUIRE_SHARED();
    const auto tok = stories260K();
    const std::string text = "x\xF0\x9F\x98\x80y"; // x, a 4-byte emoji, y
    const Encoding e = tok->encode(text);
    ASSERT_EQ(e.ids.size(), 8u);
    // " " (the dummy prefix) is empty at 0, then x, four bytes of one byte each, y.
    EXPECT_EQ(test::spanPairs(e), (std::vector<std::pair<int64_t, int64_t>>{
                                      {0, 0}, {0, 0}, {0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}, {5, 6}}));
    EXPECT_EQ(e.pieces[3], "\xF0");
    EXPECT_EQ(tok->piece(13), "\n");
    EXPECT_EQ(tok->piece(403), " Once");
    EXPECT_EQ(tok->piece(1), "<s>");
}

TEST(TokenizerSentencePiece, Stories260KDecodesReferenceGeneration) {
    ATTNSCOPE_REQUIRE_SHARED();
    const auto tok = stories260K();
    const auto dir = test::stories260KDir() / "reference";
    const auto inputs = test::readBinary<int32_t>(dir / "once_upon_a_time_n64.tokens.i32");
    ASSERT_EQ(inputs.size(), 64u);
    std::vector<int32_t> ids(inputs.begin(), inputs.end());
    // run.c prints the token it predicts at the last position too: the last row's argmax in the .tsv (id 310, "ily").
    std::ifstream tsv(dir / "once_upon_a_time_n64.tokens.tsv");
    std::string line, last;
    while (std::getline(tsv, line))
        if (!line.empty()) last = line;
    ids.push_back(std::stoi(last.substr(last.rfind('\t') + 1)));
    std::string expected = test::readBinary<char>(dir / "greedy_once_upon_a_time_n64.txt");
    ASSERT_FALSE(expected.empty());
    ASSERT_EQ(expected.back(), '\n');
    expected.pop_back(); // run.c's own final newline, not a token
    EXPECT_EQ(tok->decode(ids), expected);
    // The prompt re-encodes to what run.c fed the model.
    EXPECT_EQ(tok->encode("Once upon a time").ids, std::vector<int32_t>(ids.begin(), ids.begin() + 5));
}

TEST(TokenizerSentencePiece, Stories260KControlTokensInTextAreLiteral) {
    ATTNSCOPE_REQUIRE_SHARED();
    const auto tok = stories260K();
    const std::string text = "a</s>b";
    const Encoding e = tok->encode(text);
    ASSERT_GE(e.ids.size(), 4u);
    EXPECT_EQ(e.ids[2], 2); // </s> as one token, after BOS and " a"
    EXPECT_EQ(e.spans[2].begin, 1);
    EXPECT_EQ(e.spans[2].end, 5);
    EXPECT_TRUE(test::spansTileText(e, text));
    // As llama.cpp, the text after a special token gets its own dummy-prefix space, so "b" comes back as " b".
    EXPECT_EQ(tok->decode(e.ids), "a b");
    EXPECT_EQ(tok->decode(e.ids, false), "<s>a</s> b");
}

TEST(TokenizerSentencePiece, Stories260KLongTextIsFast) {
    ATTNSCOPE_REQUIRE_SHARED();
    const auto tok = stories260K();
    std::string text = test::readBinary<char>(test::stories260KDir() / "reference" / "greedy_empty_prompt_n256.txt");
    while (text.size() < 200000)
        text += text; // quadratic merging would take minutes here
    const Encoding e = tok->encode(text);
    EXPECT_TRUE(test::spansTileText(e, text));
    EXPECT_EQ(tok->decode(e.ids), text);
}

TEST(TokenizerSentencePiece, MergesByScoreNotLength) {
    const auto tok = core::makeGgufTokenizer(handVocab(), "hand.gguf");
    // "▁abc": pairs ▁a (-10), ab (-5), bc (-1). The best score merges first: ▁ a bc, then ▁a bc.
    // Greedy longest-prefix matching would give ▁a, b, c (there is no ▁ab); merging ab first would give ▁, ab, c.
    EXPECT_EQ(tok->encode("abc", false).ids, (std::vector<int32_t>{12, 11}));
}

TEST(TokenizerSentencePiece, TiesGoLeftmost) {
    auto v = handVocab();
    v.addSpacePrefix = false;
    const auto tok = core::makeGgufTokenizer(v, "hand.gguf");
    // "aaa": both (a,a) pairs score -1; the left one merges, leaving aa a.
    const Encoding e = tok->encode("aaa", false);
    EXPECT_EQ(e.ids, (std::vector<int32_t>{13, 7}));
    EXPECT_EQ(test::spanPairs(e), (std::vector<std::pair<int64_t, int64_t>>{{0, 2}, {2, 3}}));
}

TEST(TokenizerSentencePiece, UnknownBytesWithoutByteTokensBecomeUnk) {
    const auto tok = core::makeGgufTokenizer(handVocab(), "hand.gguf");
    // "A\nz": A and \n have byte pieces (<0x41>, <0x0A>); z has neither a piece nor a byte piece: <unk>.
    const std::string text = "A\nz";
    const Encoding e = tok->encode(text);
    EXPECT_EQ(e.ids, (std::vector<int32_t>{1, 6, 3, 4, 0}));
    EXPECT_TRUE(test::spansTileText(e, text));
    EXPECT_EQ(tok->decode(e.ids), "A\n<unk>");
}

TEST(TokenizerSentencePiece, TokenTypesMayBeAbsent) {
    auto v = handVocab();
    v.tokenTypes.clear(); // byte pieces are recognised by their spelling, BOS/EOS/UNK by their ids
    const auto tok = core::makeGgufTokenizer(v, "hand.gguf");
    EXPECT_EQ(tok->encode("A").ids, (std::vector<int32_t>{1, 6, 3}));
    EXPECT_EQ(tok->piece(3), "A");
}

TEST(TokenizerSentencePiece, BadVocabulariesAreTypedErrors) {
    auto noScores = handVocab();
    noScores.scores.clear();
    EXPECT_THROW_NAMING(core::makeGgufTokenizer(noScores, "/models/x.gguf"), core::FormatError, "/models/x.gguf");
    auto empty = handVocab();
    empty.tokens.clear();
    empty.scores.clear();
    empty.tokenTypes.clear();
    EXPECT_THROW_NAMING(core::makeGgufTokenizer(empty, "/models/x.gguf"), core::FormatError, "/models/x.gguf");
    auto badByte = handVocab();
    badByte.tokenTypes[7] = 6; // "a" marked as a byte piece
    EXPECT_THROW_NAMING(core::makeGgufTokenizer(badByte, "/models/x.gguf"), core::FormatError, "/models/x.gguf");
    const auto tok = core::makeGgufTokenizer(handVocab(), "/models/x.gguf");
    EXPECT_THROW_NAMING(tok->piece(14), core::ArgumentError, "/models/x.gguf");
    EXPECT_THROW_NAMING(tok->decode({1, -3}), core::ArgumentError, "/models/x.gguf");
}

// SentencePiece-style BPE from tokenizer.json (Llama 2 / TinyLlama / Mistral): Metaspace or Prepend+Replace,
// merges by rank, <0xXX> byte fallback, unknown token. Fixtures in tests/data/tokenizers.
#include "errors.hpp"
#include "model/tokenizer.hpp"
#include "tokenizer_checks.hpp"

#include <gtest/gtest.h>

using namespace attnscope;
using core::Encoding;
using Spans = std::vector<std::pair<int64_t, int64_t>>;
using Ids = std::vector<int32_t>;

// Both fixtures share a vocabulary: 0 <unk>, 1 <s>, 2 </s>, 3-5 <0xE6> <0x97> <0xA5> (the bytes of 日), 6 ▁, 7 H,
// 8 i, 9 t, 10 h, 11 e, 12 r, 13 ▁H, 14 ▁Hi, 15 th, 16 ▁th, 17 er, 18 ▁ther, 19 ▁there; merges by rank
// "▁ H", "▁H i", "t h", "▁ th", "e r", "▁th er", "▁ther e". Answers by hand, checked against tokenizers.js.

// metaspace_tiny: Metaspace {prepend_scheme "first", split false}, byte_fallback, fuse_unk, add_bos_token true.
TEST(TokenizerMetaspace, MergesByRankWithPrefix) {
    const auto tok = core::loadHfTokenizer(test::tokenizerFixture("metaspace_tiny"));
    EXPECT_EQ(tok->kind(), "metaspace-bpe");
    EXPECT_EQ(tok->bosId(), 1);
    EXPECT_EQ(tok->eosId(), 2);
    EXPECT_EQ(tok->vocabSize(), 20);
    // "▁Hi▁there": ▁H, ▁Hi, th, ▁th, er, ▁ther, ▁there in rank order. The prefix ▁ stands for nothing.
    const Encoding e = tok->encode("Hi there");
    EXPECT_EQ(e.ids, (Ids{1, 14, 19}));
    EXPECT_EQ(e.pieces, (std::vector<std::string>{"<s>", " Hi", " there"}));
    EXPECT_EQ(test::spanPairs(e), (Spans{{0, 0}, {0, 2}, {2, 8}}));
    EXPECT_EQ(tok->decode(e.ids), "Hi there");            // Strip decoder removes the prefix's space
    EXPECT_EQ(tok->decode(e.ids, false), "<s> Hi there"); // ... only at the very start, as HF
    EXPECT_EQ(tok->encode("Hi there", false).ids, (Ids{14, 19}));
}

TEST(TokenizerMetaspace, ByteFallbackAndFusedUnknown) {
    const auto tok = core::loadHfTokenizer(test::tokenizerFixture("metaspace_tiny"));
    // 日 has all three byte tokens; 本 (E6 9C AC) lacks two, so it is <unk>.
    const std::string text = "Hi \xE6\x97\xA5\xE6\x9C\xAC";
    Encoding e = tok->encode(text);
    EXPECT_EQ(e.ids, (Ids{1, 14, 6, 3, 4, 5, 0}));
    EXPECT_EQ(test::spanPairs(e), (Spans{{0, 0}, {0, 2}, {2, 3}, {3, 4}, {4, 5}, {5, 6}, {6, 9}}));
    EXPECT_EQ(e.pieces[3], "\xE6");
    EXPECT_EQ(tok->decode(e.ids), "Hi \xE6\x97\xA5"); // <unk> is special: skipped
    EXPECT_EQ(tok->decode({3, 4, 5}), "\xE6\x97\xA5");

    // Two unknown characters in a row share one <unk> (fuse_unk).
    e = tok->encode("\xE6\x9C\xAC\xE6\x9C\xAC");
    EXPECT_EQ(e.ids, (Ids{1, 6, 0}));
    EXPECT_EQ(test::spanPairs(e), (Spans{{0, 0}, {0, 0}, {0, 6}}));
}

TEST(TokenizerMetaspace, PrependSchemeFirstSkipsTextAfterSpecialTokens) {
    const auto tok = core::loadHfTokenizer(test::tokenizerFixture("metaspace_tiny"));
    // "there" starts at byte 6, not 0, so it gets no ▁: t h -> th, e r -> er, and nothing more merges.
    const std::string text = "Hi</s>there";
    const Encoding e = tok->encode(text);
    EXPECT_EQ(e.ids, (Ids{1, 14, 2, 15, 17, 11}));
    EXPECT_EQ(test::spanPairs(e), (Spans{{0, 0}, {0, 2}, {2, 6}, {6, 8}, {8, 10}, {10, 11}}));
    EXPECT_EQ(tok->decode(e.ids), "Hithere");
}

// llama2_legacy_tiny: normalizer Prepend("▁") + Replace(" " -> "▁"), no pre-tokenizer, and tokenizer_config
// add_bos_token false, which removes the template's <s> as transformers does.
TEST(TokenizerMetaspace, LegacyNormalizerPrependsEverySegment) {
    const auto tok = core::loadHfTokenizer(test::tokenizerFixture("llama2_legacy_tiny"));
    EXPECT_EQ(tok->kind(), "metaspace-bpe");
    EXPECT_EQ(tok->bosId(), 1);
    Encoding e = tok->encode("Hi there");
    EXPECT_EQ(e.ids, (Ids{14, 19}));
    EXPECT_EQ(tok->decode(e.ids), "Hi there");
    // The normaliser runs on each piece between added tokens, so "there" becomes "▁there" again.
    const std::string text = "Hi</s>there";
    e = tok->encode(text);
    EXPECT_EQ(e.ids, (Ids{14, 2, 19}));
    EXPECT_EQ(test::spanPairs(e), (Spans{{0, 2}, {2, 6}, {6, 11}}));
    EXPECT_EQ(tok->decode(e.ids), "Hi there");
}

TEST(TokenizerMetaspace, SpansTileAndRoundTrip) {
    for (const char* name : {"metaspace_tiny", "llama2_legacy_tiny"}) {
        const auto tok = core::loadHfTokenizer(test::tokenizerFixture(name));
        for (const std::string text : {"Hi there", "there  Hi", " Hi", "Hi \xE6\x97\xA5", "", "Hi</s>"}) {
            const Encoding e = tok->encode(text);
            EXPECT_TRUE(test::spansTileText(e, text)) << name << ": " << text;
            EXPECT_EQ(tok->decode(e.ids, false).find("<unk>"), std::string::npos);
        }
        EXPECT_EQ(tok->decode(tok->encode("there  Hi").ids), "there  Hi") << name;
    }
}

namespace {

std::filesystem::path folderWith(const std::string& json) {
    const auto dir = test::scratchDir("metaspace");
    test::writeText(dir / "tokenizer.json", json);
    return dir;
}

} // namespace

TEST(TokenizerMetaspace, OtherReplacementCharacterWithoutDecoder) {
    // Metaspace "_" (prepend always, split): "hi hi" -> "_hi_hi" -> words "_hi", "_hi"; _ h -> _h, _h i -> _hi.
    const auto tok = core::loadHfTokenizer(folderWith(
        R"({"pre_tokenizer": {"type": "Metaspace", "replacement": "_", "prepend_scheme": "always", "split": true},)"
        R"( "decoder": null, "model": {"type": "BPE", "vocab": {"_hi": 0, "_": 1, "h": 2, "i": 3, "_h": 4},)"
        R"( "merges": ["_ h", "_h i"]}})"));
    const Encoding e = tok->encode("hi hi");
    EXPECT_EQ(e.ids, (Ids{0, 0}));
    EXPECT_EQ(test::spanPairs(e), (Spans{{0, 2}, {2, 5}}));
    EXPECT_EQ(tok->decode(e.ids), "hi hi");
    EXPECT_EQ(tok->piece(0), " hi");
}

TEST(TokenizerMetaspace, PlainBpeWithoutDecoderJoinsWithSpaces) {
    // Whitespace words "hi", "to"; h i -> hi; no decoder: HF joins the tokens with single spaces.
    const auto tok = core::loadHfTokenizer(
        folderWith(R"({"pre_tokenizer": {"type": "Whitespace"}, "decoder": null, "model": {"type": "BPE",)"
                   R"( "vocab": {"h": 0, "i": 1, "hi": 2, "t": 3, "o": 4}, "merges": ["h i"]}})"));
    EXPECT_EQ(tok->kind(), "metaspace-bpe");
    const Encoding e = tok->encode("hi  to");
    EXPECT_EQ(e.ids, (Ids{2, 3, 4}));
    EXPECT_EQ(test::spanPairs(e), (Spans{{0, 2}, {4, 5}, {5, 6}}));
    EXPECT_EQ(tok->decode(e.ids), "hi t o");
}

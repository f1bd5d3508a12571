// The tokenizers' building blocks: best-first merging, literal added tokens, offset bookkeeping, byte mapping.
#include "model/added_tokens.hpp"
#include "model/bpe_merge.hpp"
#include "model/byte_level_map.hpp"
#include "model/offset_text.hpp"

#include <gtest/gtest.h>

#include <map>

using namespace attnscope::core;

namespace {

// Symbols of single letters of text; merge priorities by the concatenated text.
std::vector<std::string> merged(const std::string& text, const std::map<std::string, double>& priorities) {
    std::vector<BpeSymbol> symbols;
    for (uint32_t k = 0; k < text.size(); ++k)
        symbols.push_back({0, k, k + 1});
    bpeMerge(symbols, [&](const BpeSymbol& l, const BpeSymbol& r) -> std::optional<BpeMergeChoice> {
        const auto it = priorities.find(text.substr(l.begin, r.end - l.begin));
        if (it == priorities.end()) return std::nullopt;
        return BpeMergeChoice{it->second, 0};
    });
    std::vector<std::string> out;
    for (const auto& s : symbols)
        out.push_back(text.substr(s.begin, s.end - s.begin));
    return out;
}

} // namespace

TEST(TokenizerParts, BpeMergeIsBestFirstThenLeftmost) {
    using V = std::vector<std::string>;
    EXPECT_EQ(merged("abcd", {{"ab", 2}, {"bc", 1}, {"cd", 3}}), (V{"a", "bc", "d"}));
    EXPECT_EQ(merged("aaaa", {{"aa", 1}}), (V{"aa", "aa"}));
    EXPECT_EQ(merged("aaa", {{"aa", 1}}), (V{"aa", "a"}));
    // "abcd" has the best priority but exists only once "cd" (4) and then "ab" (5) have merged.
    EXPECT_EQ(merged("abcd", {{"ab", 5}, {"cd", 4}, {"abcd", 1}, {"bc", 9}}), (V{"abcd"}));
    EXPECT_EQ(merged("", {{"aa", 1}}), (V{}));
    EXPECT_EQ(merged("x", {{"aa", 1}}), (V{"x"}));
}

TEST(TokenizerParts, AddedTokensLeftmostLongestWithStrip) {
    AddedTokenMatcher m(
        {{"<s>", 1, true}, {"<s><s>", 2, true}, {"[X]", 3, false, true, true}, {"ab", 4, false, false, false, true}});
    const std::string text = "a<s><s><s>b  [X]  c ab xab";
    const auto segs = m.split(text);
    std::vector<std::tuple<size_t, size_t, int32_t>> got;
    for (const auto& s : segs)
        got.emplace_back(s.begin, s.end, s.id);
    // <s><s> wins over <s> where both start; [X] swallows the spaces around it; "ab" only as a single word.
    const std::vector<std::tuple<size_t, size_t, int32_t>> want = {
        {0, 1, -1}, {1, 7, 2}, {7, 10, 1}, {10, 11, -1}, {11, 18, 3}, {18, 20, -1}, {20, 22, 4}, {22, 26, -1}};
    EXPECT_EQ(got, want);
    EXPECT_EQ(m.find(3)->content, "[X]");
    EXPECT_EQ(m.find(9), nullptr);
    EXPECT_TRUE(AddedTokenMatcher().split("").empty());
}

TEST(TokenizerParts, OffsetTextMapsBackToTheInput) {
    const std::string input = "xx a b";
    OffsetText t(input, 3, 6); // "a b"
    t = t.replaced({{1, 2}}, "\xE2\x96\x81");
    t.prepend("\xE2\x96\x81");
    EXPECT_EQ(t.text(), "\xE2\x96\x81"
                        "a\xE2\x96\x81"
                        "b");
    EXPECT_EQ(t.span(0, 4).begin, 3); // the prefix plus "a" covers "a" only
    EXPECT_EQ(t.span(0, 4).end, 4);
    EXPECT_EQ(t.span(4, 8).begin, 4); // "▁b" covers " b"
    EXPECT_EQ(t.span(4, 8).end, 6);
    EXPECT_EQ(t.span(0, 3).end, 3); // the prefix alone is empty
    EXPECT_EQ(t.span(4, 5).end, 5); // a byte cut inside "▁" stays within the space it replaced
    const OffsetText s = t.slice(4, 8);
    EXPECT_EQ(s.inputBegin(), 4);
    EXPECT_EQ(s.span(0, s.size()).end, 6);
}

TEST(TokenizerParts, ByteLevelMapIsGpt2s) {
    const ByteLevelMap& m = ByteLevelMap::instance();
    EXPECT_EQ(m.encode(' '), "Ġ");
    EXPECT_EQ(m.encode('\n'), "Ċ");
    EXPECT_EQ(m.encode('A'), "A");
    EXPECT_EQ(m.encode(0xAD), "Ń"); // soft hyphen, the last of the remapped bytes (U+0143)
    EXPECT_EQ(m.encode(0xC3), "Ã");
    std::string all;
    for (int b = 0; b < 256; ++b)
        all += m.encode(static_cast<unsigned char>(b));
    std::string raw;
    for (int b = 0; b < 256; ++b)
        raw += static_cast<char>(b);
    EXPECT_EQ(m.decodeText(all), raw);
    EXPECT_EQ(m.decodeText("<|x|>"), "<|x|>");
    EXPECT_EQ(m.decodeText("日"), "日"); // outside the mapping: kept as written
}

// Sentence segmentation (methods.md §4.1) on hand-written traces and on the Thought Anchors authors' own published
// segmentation, and the mapping of sentences to token ranges.
#include "analysis/sentence_spans.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

using namespace attnscope;

namespace {

std::vector<std::string> texts(const std::vector<core::SentenceSpan>& spans) {
    std::vector<std::string> out;
    for (const auto& s : spans)
        out.push_back(s.text);
    return out;
}

// Every run of ASCII whitespace as one space.
std::string collapseSpace(const std::string& s) {
    std::string out;
    for (char c : s) {
        const bool space = c == ' ' || c == '\n' || c == '\r' || c == '\t';
        if (!space)
            out += c;
        else if (out.empty() || out.back() != ' ')
            out += ' ';
    }
    return out;
}

nlohmann::json readJson(const std::filesystem::path& p) {
    std::ifstream in(p);
    return nlohmann::json::parse(in);
}

} // namespace

TEST(SentenceSpans, SplitsAtSentenceEndsAndParagraphs) {
    const std::string text = "First we add the numbers. Then we check it!\n\nIs that right? Yes it is right.";
    const auto spans = core::segmentSentences(text);
    EXPECT_EQ(texts(spans), (std::vector<std::string>{"First we add the numbers.", "Then we check it!",
                                                      "Is that right?", "Yes it is right."}));
    for (const auto& s : spans)
        EXPECT_EQ(text.substr(size_t(s.byteBegin), size_t(s.byteEnd - s.byteBegin)), s.text);
}

TEST(SentenceSpans, DecimalPointsAndAbbreviationsFollowTheRule) {
    // "3.5" does not end a sentence (no space after the dot); "Dr." does, the known artefact of the reference.
    EXPECT_EQ(texts(core::segmentSentences("The value is 3.5 units long. I asked Dr. Smith about it.")),
              (std::vector<std::string>{"The value is 3.5 units long.", "I asked Dr.", "Smith about it."}));
}

TEST(SentenceSpans, ShortChunksMergeIntoTheNextAndTheLastIntoThePrevious) {
    const std::string text = "Okay. So. We need the total area here. Done.";
    const auto spans = core::segmentSentences(text);
    // "Okay." + "So." is still short, so it merges again with the next chunk; "Done." joins the one before it.
    ASSERT_EQ(texts(spans), (std::vector<std::string>{"Okay. So. We need the total area here. Done."}));
    EXPECT_EQ(spans[0].byteBegin, 0);
    EXPECT_EQ(spans[0].byteEnd, int64_t(text.size()));
    const auto two = core::segmentSentences("Hmm.\n\nWe need the total area here.");
    ASSERT_EQ(texts(two), (std::vector<std::string>{"Hmm. We need the total area here."}));
    EXPECT_EQ(two[0].byteBegin, 0); // merged chunks keep their original gap ("\n\n") in the byte range
    EXPECT_EQ(two[0].byteEnd, 34);
}

TEST(SentenceSpans, ThinkTagsAndTheRemainder) {
    const std::string text = "Problem: add. <think>\nWe add two and two. The sum is four</think> Answer: 4.";
    const auto spans = core::segmentSentences(text);
    ASSERT_EQ(texts(spans), (std::vector<std::string>{"We add two and two.", "The sum is four"}));
    EXPECT_EQ(text.substr(size_t(spans[1].byteBegin), size_t(spans[1].byteEnd - spans[1].byteBegin)),
              "The sum is four");
    core::SentenceOptions reference;
    reference.emitRemainder = false; // the current reference code
    EXPECT_EQ(texts(core::segmentSentences(text, reference)), (std::vector<std::string>{"We add two and two."}));
}

TEST(SentenceSpans, StripsUnicodeWhitespaceLikePython) {
    // U+00A0 (no-break space) and U+3000 are whitespace to Python's strip(); "é" counts as one character.
    const std::string text = "\xC2\xA0"
                             "Caf\xC3\xA9 au lait is good. \xE3\x80\x80Tea is good too.";
    EXPECT_EQ(texts(core::segmentSentences(text)),
              (std::vector<std::string>{"Caf\xC3\xA9 au lait is good.", "Tea is good too."}));
    // Nine code points but ten bytes: still short, so it merges.
    EXPECT_EQ(texts(core::segmentSentences("Caf\xC3\xA9s ok. And then some more words.")).size(), 1u);
}

TEST(SentenceSpans, TokenRangesFollowByteOverlap) {
    // BOS (zero width), "We", " add", " it", ".", " \n", "Then", " stop", " now", "."
    const std::string text = "We add it. \nThen stop now.";
    auto spans = core::segmentSentences(text);
    ASSERT_EQ(spans.size(), 2u);
    const std::vector<std::array<int64_t, 2>> tokens = {{0, 0},   {0, 2},   {2, 6},   {6, 9},   {9, 10},
                                                        {10, 12}, {12, 16}, {16, 21}, {21, 25}, {25, 26}};
    core::assignTokenRanges(spans, tokens);
    EXPECT_EQ(spans[0].tokenBegin, 1); // BOS precedes the first sentence
    EXPECT_EQ(spans[0].tokenEnd, 5);
    EXPECT_EQ(spans[1].tokenBegin, 6); // the whitespace token between them belongs to neither
    EXPECT_EQ(spans[1].tokenEnd, 10);
    // A token straddling the boundary goes to the first sentence it overlaps; ranges stay disjoint.
    const std::vector<std::array<int64_t, 2>> merged = {{0, 9}, {9, 14}, {14, 26}};
    core::assignTokenRanges(spans, merged);
    EXPECT_EQ(spans[0].tokenEnd, 2);
    EXPECT_EQ(spans[1].tokenBegin, 2);
    EXPECT_EQ(spans[1].tokenEnd, 3);
}

// The authors' published chunks (../shared/data/thought-anchors, chunks_labeled.json) for every trace there.
TEST(SentenceSpans, MatchesThePublishedThoughtAnchorsChunks) {
    ATTNSCOPE_REQUIRE_SHARED();
    const auto root = test::sharedDir() / "data" / "thought-anchors";
    if (!std::filesystem::is_directory(root)) GTEST_SKIP() << root << " is absent: no published traces to compare";
    int problems = 0, chunks = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
        if (entry.path().filename() != "chunks_labeled.json") continue;
        const auto dir = entry.path().parent_path();
        const std::string solution = readJson(dir / "base_solution.json").at("solution");
        std::vector<std::string> expected;
        for (const auto& c : readJson(entry.path()))
            expected.push_back(c.at("chunk"));
        const auto spans = core::segmentSentences(solution);
        EXPECT_EQ(texts(spans), expected) << dir;
        for (const auto& s : spans) {
            // The byte range holds the chunk; a merge joined its pieces with one space where the text had a gap.
            const std::string range = solution.substr(size_t(s.byteBegin), size_t(s.byteEnd - s.byteBegin));
            EXPECT_EQ(collapseSpace(range), collapseSpace(s.text)) << dir;
        }
        ++problems;
        chunks += int(expected.size());
    }
    EXPECT_EQ(problems, 4) << "the README lists four problems";
    EXPECT_EQ(chunks, 24 + 26 + 26 + 64);
}

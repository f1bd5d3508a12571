#pragma once
// Sentence ("chunk") segmentation of a reasoning trace as Thought Anchors does it (methods.md §4.1), with each
// sentence's byte range in the input text and its token range in a tokenised run. Byte offsets are into the UTF-8
// text given; token ranges are [begin, end) positions in the run (so they count BOS where the run has one).
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace attnscope::core {

struct SentenceSpan {
    std::string text;      // the chunk exactly as the reference emits it (merged chunks joined by one space)
    int64_t byteBegin = 0; // [byteBegin, byteEnd) in the input text, whitespace-trimmed, gaps of merges included
    int64_t byteEnd = 0;
    int64_t tokenBegin = 0; // [tokenBegin, tokenEnd) once assignTokenRanges has run; empty when no token overlaps
    int64_t tokenEnd = 0;
};

struct SentenceOptions {
    // The published data keeps the text after the last sentence end as the last chunk; the current reference code
    // drops it (the line is commented out). True matches the published chunks.
    bool emitRemainder = true;
    // Chunks shorter than this many code points are merged into the next one (the last into the previous one).
    int64_t minChars = 10;
};

// Segments the text between the first "<think>" (if any) and the following "</think>" (if any), as §4.1.
std::vector<SentenceSpan> segmentSentences(std::string_view text, const SentenceOptions& options = {});

// Sets each sentence's token range from the tokens' byte spans [begin, end) into the same text (RunTokens::spans,
// non-decreasing). A token belongs to the first sentence it overlaps by at least one byte; zero-width tokens (BOS)
// belong to a sentence only when strictly inside it. Ranges are disjoint and in order.
void assignTokenRanges(std::span<SentenceSpan> sentences, std::span<const std::array<int64_t, 2>> tokenSpans);

} // namespace attnscope::core

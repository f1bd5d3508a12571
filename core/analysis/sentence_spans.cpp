#include "analysis/sentence_spans.hpp"

#include <algorithm>
#include <tuple>

namespace attnscope::core {

namespace {

// Decodes the code point at text[i] and its length in bytes; malformed bytes read as themselves, one byte long.
char32_t codePointAt(std::string_view text, size_t i, size_t& length) {
    const auto b = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char c = b(i);
    int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
    if (i + size_t(extra) >= text.size()) extra = 0;
    char32_t cp = extra == 0 ? c : extra == 1 ? (c & 0x1F) : extra == 2 ? (c & 0x0F) : (c & 0x07);
    for (int k = 1; k <= extra; ++k) {
        if ((b(i + size_t(k)) & 0xC0) != 0x80) {
            length = 1;
            return c;
        }
        cp = (cp << 6) | (b(i + size_t(k)) & 0x3F);
    }
    length = size_t(extra) + 1;
    return cp;
}

// Python's str.isspace(): strip() must remove exactly these, or chunks with e.g. a no-break space would differ.
bool isPythonSpace(char32_t c) {
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// Python's strip() on text[begin, end): the trimmed range (begin == end when only whitespace).
std::pair<size_t, size_t> strip(std::string_view text, size_t begin, size_t end) {
    size_t b = begin;
    while (b < end) {
        size_t len = 1;
        if (!isPythonSpace(codePointAt(text, b, len))) break;
        b += len;
    }
    size_t e = b;
    for (size_t i = b; i < end;) {
        size_t len = 1;
        const bool space = isPythonSpace(codePointAt(text, i, len));
        i += len;
        if (!space) e = i;
    }
    return {b, e};
}

int64_t codePoints(std::string_view s) {
    return std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

// The reference's merge pass, kept literally: a short chunk joins the next one and the result is checked again.
void mergeShort(std::vector<SentenceSpan>& chunks, int64_t minChars) {
    size_t i = 0;
    while (i < chunks.size()) {
        if (codePoints(chunks[i].text) >= minChars) {
            ++i;
            continue;
        }
        if (i + 1 == chunks.size()) {
            if (i == 0) break;
            chunks[i - 1].text += " " + chunks[i].text;
            chunks[i - 1].byteEnd = chunks[i].byteEnd;
            chunks.pop_back();
        } else {
            chunks[i + 1].text = chunks[i].text + " " + chunks[i + 1].text;
            chunks[i + 1].byteBegin = chunks[i].byteBegin;
            chunks.erase(chunks.begin() + std::ptrdiff_t(i));
        }
        if (i == 0 && chunks.size() == 1) break;
    }
}

} // namespace

std::vector<SentenceSpan> segmentSentences(std::string_view text, const SentenceOptions& options) {
    size_t begin = 0, end = text.size();
    if (const size_t open = text.find("<think>"); open != std::string_view::npos) {
        begin = open + 7;
        end = std::min(end, text.find("<think>", begin));
        std::tie(begin, end) = strip(text, begin, end);
    }
    if (const size_t close = text.substr(begin, end - begin).find("</think>"); close != std::string_view::npos)
        end = begin + close;
    std::tie(begin, end) = strip(text, begin, end);

    // Only ASCII characters end a chunk, so walking bytes instead of code points finds the same boundaries.
    std::vector<SentenceSpan> chunks;
    const auto emit = [&](size_t from, size_t to) {
        const auto [b, e] = strip(text, from, to);
        if (b == e) return false;
        chunks.push_back({std::string(text.substr(b, e - b)), int64_t(b), int64_t(e)});
        return true;
    };
    const std::string_view body = text.substr(0, end);
    size_t chunkStart = begin;
    for (size_t i = begin; i < end; ++i) {
        const char c = text[i];
        const std::string_view rest = body.substr(i);
        const bool paragraphEnd = rest.starts_with("\n\n") || rest.starts_with("\r\n\r\n");
        const bool sentenceEnd =
            i + 1 < end && (c == '.' || c == '?' || c == '!') && (text[i + 1] == ' ' || text[i + 1] == '\n');
        if ((paragraphEnd || sentenceEnd) && emit(chunkStart, i + 1)) chunkStart = i + 1;
    }
    if (options.emitRemainder) emit(chunkStart, end);
    mergeShort(chunks, options.minChars);
    return chunks;
}

void assignTokenRanges(std::span<SentenceSpan> sentences, std::span<const std::array<int64_t, 2>> tokenSpans) {
    const int64_t T = int64_t(tokenSpans.size());
    int64_t t = 0;
    for (SentenceSpan& s : sentences) {
        // Tokens ending at or before the sentence's first byte lie before it (a zero-width token at its start too).
        while (t < T && tokenSpans[size_t(t)][1] <= s.byteBegin)
            ++t;
        s.tokenBegin = t;
        while (t < T && tokenSpans[size_t(t)][0] < s.byteEnd)
            ++t;
        s.tokenEnd = t;
    }
}

} // namespace attnscope::core

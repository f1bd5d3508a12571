#pragma once
// Text under normalisation that remembers, for each of its size()+1 byte boundaries, the byte offset in the input.
#include "model/tokenizer.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace attnscope::core {

class OffsetText {
public:
    OffsetText() = default;
    // input[begin, end) unchanged: boundary k maps to begin + k.
    OffsetText(std::string_view input, int64_t begin, int64_t end);

    const std::string& text() const { return m_text; }
    size_t size() const { return m_text.size(); }
    bool empty() const { return m_text.empty(); }
    // Input offset of the start of this text (the start of the first character, even if it was inserted).
    int64_t inputBegin() const { return m_offsets.front(); }
    ByteSpan span(size_t begin, size_t end) const { return {m_offsets[begin], m_offsets[end]}; }

    OffsetText slice(size_t begin, size_t end) const;
    // Inserted text stands for nothing in the input: it gets an empty span at the current start.
    void prepend(std::string_view s);
    // Each range is replaced by content; a token that covers the content covers the whole range it replaced.
    OffsetText replaced(const std::vector<std::pair<size_t, size_t>>& ranges, std::string_view content) const;
    // Each byte becomes table[byte] (byte-level BPE); a character covers the byte it stands for.
    template <typename Table> OffsetText mappedBytes(const Table& table) const;

    // Building blocks: append text that stands for input[inBegin, inEnd), then close with finish().
    void appendMapped(std::string_view s, int64_t inBegin, int64_t inEnd);
    void appendSlice(const OffsetText& from, size_t begin, size_t end);
    void finish(int64_t inEnd) { m_offsets.push_back(inEnd); }

private:
    std::string m_text;
    std::vector<int64_t> m_offsets; // after finish(): size() + 1 entries
};

template <typename Table> OffsetText OffsetText::mappedBytes(const Table& table) const {
    OffsetText out;
    for (size_t k = 0; k < m_text.size(); ++k)
        out.appendMapped(table(static_cast<unsigned char>(m_text[k])), m_offsets[k], m_offsets[k + 1]);
    out.finish(m_offsets.back());
    return out;
}

} // namespace attnscope::core

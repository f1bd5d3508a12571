#include "model/offset_text.hpp"

namespace attnscope::core {

OffsetText::OffsetText(std::string_view input, int64_t begin, int64_t end)
    : m_text(input.substr(static_cast<size_t>(begin), static_cast<size_t>(end - begin))) {
    m_offsets.reserve(m_text.size() + 1);
    for (int64_t k = begin; k <= end; ++k)
        m_offsets.push_back(k);
}

OffsetText OffsetText::slice(size_t begin, size_t end) const {
    OffsetText out;
    out.appendSlice(*this, begin, end);
    out.finish(m_offsets[end]);
    return out;
}

void OffsetText::prepend(std::string_view s) {
    m_text.insert(0, s);
    m_offsets.insert(m_offsets.begin(), s.size(), m_offsets.front());
}

OffsetText OffsetText::replaced(const std::vector<std::pair<size_t, size_t>>& ranges, std::string_view content) const {
    OffsetText out;
    size_t pos = 0;
    for (const auto& [begin, end] : ranges) {
        out.appendSlice(*this, pos, begin);
        out.appendMapped(content, m_offsets[begin], m_offsets[end]);
        pos = end;
    }
    out.appendSlice(*this, pos, m_text.size());
    out.finish(m_offsets.back());
    return out;
}

void OffsetText::appendMapped(std::string_view s, int64_t inBegin, int64_t inEnd) {
    if (s.empty()) return;
    m_text.append(s);
    // Boundaries inside the new text can only be cut by byte fallback; sending them to the end keeps spans ordered.
    m_offsets.push_back(inBegin);
    m_offsets.insert(m_offsets.end(), s.size() - 1, inEnd);
}

void OffsetText::appendSlice(const OffsetText& from, size_t begin, size_t end) {
    m_text.append(from.m_text, begin, end - begin);
    m_offsets.insert(m_offsets.end(), from.m_offsets.begin() + static_cast<std::ptrdiff_t>(begin),
                     from.m_offsets.begin() + static_cast<std::ptrdiff_t>(end));
}

} // namespace attnscope::core

#include "model/added_tokens.hpp"

#include <algorithm>
#include <cctype>

namespace attnscope::core {
namespace {

bool isSpace(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Bytes of multi-byte characters count as word characters: letters of other scripts must not end a word.
bool isWordByte(unsigned char c) {
    return c >= 0x80 || c == '_' || std::isalnum(c);
}

} // namespace

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedToken> tokens) : m_tokens(std::move(tokens)) {
    for (size_t k = 0; k < m_tokens.size(); ++k) {
        m_byId.emplace(m_tokens[k].id, k);
        if (!m_tokens[k].content.empty())
            m_byFirstByte[static_cast<unsigned char>(m_tokens[k].content[0])].push_back(k);
    }
    for (auto& bucket : m_byFirstByte)
        std::stable_sort(bucket.begin(), bucket.end(),
                         [&](size_t a, size_t b) { return m_tokens[a].content.size() > m_tokens[b].content.size(); });
}

const AddedToken* AddedTokenMatcher::find(int32_t id) const {
    const auto it = m_byId.find(id);
    return it == m_byId.end() ? nullptr : &m_tokens[it->second];
}

std::vector<TextSegment> AddedTokenMatcher::split(std::string_view text) const {
    std::vector<TextSegment> out;
    size_t rawBegin = 0;
    const auto flushRaw = [&](size_t end) {
        if (end > rawBegin) out.push_back({rawBegin, end, -1});
    };
    for (size_t pos = 0; pos < text.size();) {
        const AddedToken* hit = nullptr;
        for (size_t k : m_byFirstByte[static_cast<unsigned char>(text[pos])]) {
            const AddedToken& t = m_tokens[k];
            if (text.compare(pos, t.content.size(), t.content) != 0) continue;
            const size_t end = pos + t.content.size();
            if (t.singleWord &&
                ((pos > 0 && isWordByte(text[pos - 1])) || (end < text.size() && isWordByte(text[end]))))
                continue;
            hit = &t;
            break;
        }
        if (!hit) {
            ++pos;
            continue;
        }
        size_t begin = pos, end = pos + hit->content.size();
        if (hit->lstrip)
            while (begin > rawBegin && isSpace(text[begin - 1]))
                --begin;
        if (hit->rstrip)
            while (end < text.size() && isSpace(text[end]))
                ++end;
        flushRaw(begin);
        out.push_back({begin, end, hit->id});
        rawBegin = pos = end;
    }
    flushRaw(text.size());
    return out;
}

} // namespace attnscope::core

#include "model/byte_level_map.hpp"

#include "model/utf8.hpp"

namespace attnscope::core {

const ByteLevelMap& ByteLevelMap::instance() {
    static const ByteLevelMap map;
    return map;
}

ByteLevelMap::ByteLevelMap() {
    m_charToByte.fill(-1);
    // Printable Latin-1 bytes stand for themselves; the others take code points from 256 on, in byte order,
    // so that no token ever holds whitespace or a control character.
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
        const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
        const char32_t cp = printable ? static_cast<char32_t>(b) : next++;
        utf8Append(m_byteToText[b], cp);
        m_charToByte[cp] = static_cast<short>(b);
    }
}

std::string ByteLevelMap::decodeText(std::string_view token) const {
    std::string out;
    out.reserve(token.size());
    for (size_t pos = 0; pos < token.size();) {
        const size_t len = utf8CharLength(token, pos);
        const int b = decode(utf8Decode(token, pos, len));
        if (b >= 0)
            out += static_cast<char>(b);
        else
            out.append(token.substr(pos, len));
        pos += len;
    }
    return out;
}

} // namespace attnscope::core

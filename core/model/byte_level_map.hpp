#pragma once
// GPT-2's reversible byte <-> printable-character mapping used by byte-level BPE (space is "Ġ", newline "Ċ").
#include <array>
#include <string>
#include <string_view>

namespace attnscope::core {

class ByteLevelMap {
public:
    static const ByteLevelMap& instance();

    // The UTF-8 spelling of the character that stands for byte b.
    const std::string& encode(unsigned char b) const { return m_byteToText[b]; }
    // The byte a character stands for, or -1 for a character outside the mapping.
    int decode(char32_t cp) const { return cp < m_charToByte.size() ? m_charToByte[cp] : -1; }
    // Maps a byte-level token back to raw bytes; characters outside the mapping are kept as UTF-8.
    std::string decodeText(std::string_view token) const;

private:
    ByteLevelMap();
    std::array<std::string, 256> m_byteToText;
    std::array<short, 324> m_charToByte{}; // the mapping's highest character is U+0143
};

} // namespace attnscope::core

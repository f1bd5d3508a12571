#pragma once
// A compiled PCRE2 pattern (UTF, Unicode properties, JIT when available); const methods are safe from many threads.
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct pcre2_real_code_8;

namespace attnscope::core {

class PcreRegex {
public:
    // literal: the pattern is plain text (HF Split {"String": ...}). source names the file in error messages.
    PcreRegex(std::string_view pattern, bool literal, const std::string& source);
    ~PcreRegex();
    PcreRegex(const PcreRegex&) = delete;
    PcreRegex& operator=(const PcreRegex&) = delete;

    // Byte ranges [first, second) of the non-overlapping, non-empty matches, left to right. Invalid UTF-8 never
    // matches, so it is left to the gaps between matches.
    std::vector<std::pair<size_t, size_t>> findAll(std::string_view text) const;

    const std::string& pattern() const { return m_pattern; }

private:
    std::string m_pattern;
    std::string m_source;
    pcre2_real_code_8* m_code = nullptr;
    bool m_jit = false;
};

} // namespace attnscope::core

#define PCRE2_CODE_UNIT_WIDTH 8
#include "model/pcre_regex.hpp"

#include "errors.hpp"
#include "model/utf8.hpp"

#include <fmt/format.h>
#include <pcre2.h>

#include <memory>

namespace attnscope::core {
namespace {

std::string pcreMessage(int code) {
    PCRE2_UCHAR buffer[256];
    const int n = pcre2_get_error_message(code, buffer, sizeof(buffer));
    return n < 0 ? fmt::format("PCRE2 error {}", code) : std::string(reinterpret_cast<const char*>(buffer));
}

struct MatchDataDeleter {
    void operator()(pcre2_match_data* p) const { pcre2_match_data_free(p); }
};

} // namespace

PcreRegex::PcreRegex(std::string_view pattern, bool literal, const std::string& source)
    : m_pattern(pattern), m_source(source) {
    // MATCH_INVALID_UTF lets arbitrary user bytes through without undefined behaviour: bad sequences just never match.
    // PCRE2 refuses UCP together with LITERAL, where it would mean nothing anyway.
    const uint32_t options = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | (literal ? PCRE2_LITERAL : PCRE2_UCP);
    int errorCode = 0;
    PCRE2_SIZE errorOffset = 0;
    m_code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options, &errorCode,
                           &errorOffset, nullptr);
    if (!m_code)
        throw FormatError(
            fmt::format("Tokenizer file {} has the pattern \"{}\", which does not compile ({} at offset {}).", source,
                        m_pattern, pcreMessage(errorCode), errorOffset));
    m_jit = pcre2_jit_compile(m_code, PCRE2_JIT_COMPLETE) == 0;
}

PcreRegex::~PcreRegex() {
    pcre2_code_free(m_code);
}

std::vector<std::pair<size_t, size_t>> PcreRegex::findAll(std::string_view text) const {
    std::vector<std::pair<size_t, size_t>> out;
    std::unique_ptr<pcre2_match_data, MatchDataDeleter> data(pcre2_match_data_create_from_pattern(m_code, nullptr));
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    size_t pos = 0;
    uint32_t noJit = 0;
    while (pos < text.size()) {
        int rc = pcre2_match(m_code, subject, text.size(), pos, noJit, data.get(), nullptr);
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT && m_jit && !noJit) {
            // The default JIT stack is small; a very long run of one class can exceed it. The interpreter cannot.
            noJit = PCRE2_NO_JIT;
            continue;
        }
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0)
            throw FormatError(
                fmt::format("The pre-tokenizer pattern {} of tokenizer file {} failed on the input text: {}.",
                            m_pattern, m_source, pcreMessage(rc)));
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(data.get());
        const size_t begin = ov[0], end = ov[1];
        if (end > begin) {
            out.emplace_back(begin, end);
            pos = end;
        } else if (begin < text.size()) {
            pos = begin + utf8CharLength(text, begin); // an empty match: step over one character
        } else {
            break;
        }
    }
    return out;
}

} // namespace attnscope::core

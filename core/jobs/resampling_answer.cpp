#define PCRE2_CODE_UNIT_WIDTH 8
#include "jobs/resampling_answer.hpp"

#include "errors.hpp"

#include <fmt/format.h>
#include <pcre2.h>

#include <memory>

namespace attnscope::core {

namespace {

struct MatchDataDeleter {
    void operator()(pcre2_match_data* p) const { pcre2_match_data_free(p); }
};

std::string trimmed(std::string_view s) {
    const size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return {};
    return std::string(s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1));
}

} // namespace

AnswerExtractor::AnswerExtractor(std::string_view pattern) : m_pattern(pattern) {
    int errorCode = 0;
    PCRE2_SIZE errorOffset = 0;
    // Rollouts are model output: invalid UTF-8 must simply not match rather than be undefined behaviour.
    m_code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                           PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &errorCode, &errorOffset, nullptr);
    if (!m_code) {
        PCRE2_UCHAR buffer[256];
        const int n = pcre2_get_error_message(errorCode, buffer, sizeof(buffer));
        const std::string why = n < 0 ? fmt::format("PCRE2 error {}", errorCode) : reinterpret_cast<char*>(buffer);
        throw ArgumentError(
            fmt::format("--answer-regex '{}' does not compile ({} at offset {}).", m_pattern, why, errorOffset));
    }
    uint32_t minLength = 0, captures = 0;
    pcre2_pattern_info(m_code, PCRE2_INFO_MINLENGTH, &minLength);
    pcre2_pattern_info(m_code, PCRE2_INFO_CAPTURECOUNT, &captures);
    if (minLength == 0) {
        pcre2_code_free(m_code);
        throw ArgumentError(
            fmt::format("--answer-regex '{}' can match an empty text, so every rollout would answer.", m_pattern));
    }
    const int named = pcre2_substring_number_from_name(m_code, reinterpret_cast<PCRE2_SPTR>("answer"));
    m_group = named > 0 ? uint32_t(named) : (captures > 0 ? 1u : 0u);
}

AnswerExtractor::~AnswerExtractor() {
    pcre2_code_free(m_code);
}

std::string AnswerExtractor::extract(std::string_view text) const {
    std::unique_ptr<pcre2_match_data, MatchDataDeleter> data(pcre2_match_data_create_from_pattern(m_code, nullptr));
    const int rc =
        pcre2_match(m_code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), 0, 0, data.get(), nullptr);
    if (rc < 0) return {};
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(data.get());
    // A group that did not take part in the match (an alternative not taken) gives no answer.
    if (uint32_t(rc) <= m_group || ov[2 * m_group] == PCRE2_UNSET) return {};
    return trimmed(text.substr(ov[2 * m_group], ov[2 * m_group + 1] - ov[2 * m_group]));
}

} // namespace attnscope::core

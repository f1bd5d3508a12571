#pragma once
// Final-answer extraction for counterfactual rollouts (methods.md §4.2): a user-given PCRE2 pattern; the answer is its
// first match's group named "answer" when the pattern has one, else its first capture group, else the whole match.
// Const methods are safe from many threads.
#include <string>
#include <string_view>

struct pcre2_real_code_8;

namespace attnscope::core {

// The reference's answer: the content of the first \boxed{...}, braces nested up to any depth.
inline constexpr const char* kBoxedAnswerPattern = R"(\\boxed(\{(?<answer>(?:[^{}]++|(?1))*)\}))";

class AnswerExtractor {
public:
    // Throws ArgumentError "--answer-regex '<pattern>' does not compile (<why> at offset N)." for a bad pattern, and
    // for one that can match the empty string (every rollout would "answer").
    explicit AnswerExtractor(std::string_view pattern);
    ~AnswerExtractor();
    AnswerExtractor(const AnswerExtractor&) = delete;
    AnswerExtractor& operator=(const AnswerExtractor&) = delete;

    // The answer in `text`, trimmed of surrounding whitespace; empty when the pattern does not match.
    std::string extract(std::string_view text) const;

    const std::string& pattern() const { return m_pattern; }

private:
    std::string m_pattern;
    pcre2_real_code_8* m_code = nullptr;
    uint32_t m_group = 0; // the capture group that holds the answer; 0: the whole match
};

} // namespace attnscope::core

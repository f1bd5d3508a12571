#pragma once
// A tokenizer.json "normalizer": Sequence, Prepend, Replace, Strip; NFC, NFKC and Precompiled pass text unchanged.
#include "model/offset_text.hpp"
#include "model/pcre_regex.hpp"

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <string>
#include <vector>

namespace attnscope::core {

class HfNormalizer {
public:
    // j: the "normalizer" object (not null). Throws UnsupportedError or FormatError naming file.
    static std::unique_ptr<HfNormalizer> fromJson(const nlohmann::json& j, const std::string& file);

    OffsetText apply(OffsetText text) const;
    // Whether a step prepends s (Llama 2's Prepend("▁"): decoding strips the space it becomes).
    bool prepends(std::string_view s) const;

private:
    enum class Kind { Prepend, Replace };
    struct Step {
        Kind kind;
        std::string content;
        std::shared_ptr<PcreRegex> pattern; // Replace only
    };
    void addSteps(const nlohmann::json& j, const std::string& file);

    std::vector<Step> m_steps;
};

} // namespace attnscope::core

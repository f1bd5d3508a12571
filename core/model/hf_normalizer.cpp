#include "model/hf_normalizer.hpp"

#include "errors.hpp"
#include "model/hf_json.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace attnscope::core {

std::unique_ptr<HfNormalizer> HfNormalizer::fromJson(const nlohmann::json& j, const std::string& file) {
    auto n = std::make_unique<HfNormalizer>();
    n->addSteps(j, file);
    return n;
}

void HfNormalizer::addSteps(const nlohmann::json& j, const std::string& file) {
    const std::string type = jsonType(j, "normalizer", file);
    if (type == "Sequence") {
        for (const auto& step : jsonArray(j, "normalizers", "normalizer", file))
            addSteps(step, file);
    } else if (type == "Prepend") {
        m_steps.push_back({Kind::Prepend, jsonString(j, "prepend", "Prepend normalizer", file), nullptr});
    } else if (type == "Replace") {
        m_steps.push_back({Kind::Replace, jsonString(j, "content", "Replace normalizer", file),
                           jsonPattern(j, "Replace normalizer", file)});
    } else if (type == "Strip") {
        // Leading and trailing whitespace become empty replacements so that offsets stay exact.
        const bool left = j.value("strip_left", true), right = j.value("strip_right", true);
        if (left) m_steps.push_back({Kind::Replace, "", std::make_shared<PcreRegex>("^\\s+", false, file)});
        if (right) m_steps.push_back({Kind::Replace, "", std::make_shared<PcreRegex>("\\s+$", false, file)});
    } else if (type == "NFC" || type == "NFKC" || type == "Precompiled") {
        // Unicode normalisation needs tables we do not carry; text that is already NFC (almost all) is unchanged.
    } else {
        throw UnsupportedError(
            fmt::format("Tokenizer file {} uses normalizer {}, which attnscope does not support.", file, type));
    }
}

OffsetText HfNormalizer::apply(OffsetText text) const {
    for (const Step& step : m_steps) {
        if (step.kind == Kind::Prepend) {
            // HF prepends to non-empty text only.
            if (!text.empty()) text.prepend(step.content);
        } else {
            text = text.replaced(step.pattern->findAll(text.text()), step.content);
        }
    }
    return text;
}

bool HfNormalizer::prepends(std::string_view s) const {
    for (const Step& step : m_steps)
        if (step.kind == Kind::Prepend && step.content == s) return true;
    return false;
}

} // namespace attnscope::core

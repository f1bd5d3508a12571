#include "model/hf_pre_tokenizer.hpp"

#include "errors.hpp"
#include "model/byte_level_map.hpp"
#include "model/hf_json.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <tuple>

namespace attnscope::core {
namespace {

constexpr std::string_view kGpt2Pattern =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

std::vector<std::pair<size_t, size_t>> findLiteral(const std::string& text, std::string_view needle) {
    std::vector<std::pair<size_t, size_t>> out;
    if (needle.empty()) return out;
    for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + needle.size()))
        out.emplace_back(pos, pos + needle.size());
    return out;
}

} // namespace

std::unique_ptr<HfPreTokenizer> HfPreTokenizer::fromJson(const nlohmann::json& j, const std::string& file) {
    auto p = std::make_unique<HfPreTokenizer>();
    p->addSteps(j, file);
    return p;
}

std::unique_ptr<HfPreTokenizer> HfPreTokenizer::gpt2ByteLevel(const std::string& file) {
    auto p = std::make_unique<HfPreTokenizer>();
    Step step;
    step.kind = Kind::ByteLevel;
    step.regex = std::make_shared<PcreRegex>(kGpt2Pattern, false, file);
    p->m_steps.push_back(std::move(step));
    return p;
}

void HfPreTokenizer::addSteps(const nlohmann::json& j, const std::string& file) {
    const std::string type = jsonType(j, "pre_tokenizer", file);
    Step step;
    if (type == "Sequence") {
        for (const auto& sub : jsonArray(j, "pretokenizers", "pre_tokenizer", file))
            addSteps(sub, file);
        return;
    } else if (type == "Split") {
        step.regex = jsonPattern(j, "Split pre-tokenizer", file);
        const std::string behavior = jsonString(j, "behavior", "Split pre-tokenizer", file);
        static const std::pair<const char*, Behavior> names[] = {{"Removed", Behavior::Removed},
                                                                 {"Isolated", Behavior::Isolated},
                                                                 {"MergedWithPrevious", Behavior::MergedWithPrevious},
                                                                 {"MergedWithNext", Behavior::MergedWithNext},
                                                                 {"Contiguous", Behavior::Contiguous}};
        const auto* it =
            std::find_if(std::begin(names), std::end(names), [&](const auto& n) { return behavior == n.first; });
        if (it == std::end(names))
            throw FormatError(
                fmt::format("Tokenizer file {} has a Split pre-tokenizer with unknown behavior {}.", file, behavior));
        step.behavior = it->second;
        step.invert = j.value("invert", false);
    } else if (type == "ByteLevel") {
        step.kind = Kind::ByteLevel;
        step.addPrefixSpace = j.value("add_prefix_space", true);
        if (j.value("use_regex", true)) step.regex = std::make_shared<PcreRegex>(kGpt2Pattern, false, file);
    } else if (type == "Metaspace") {
        step.kind = Kind::Metaspace;
        step.replacement = jsonString(j, "replacement", "Metaspace pre-tokenizer", file);
        const std::string scheme = j.contains("prepend_scheme") && j["prepend_scheme"].is_string()
                                       ? j["prepend_scheme"].get<std::string>()
                                       : (j.value("add_prefix_space", true) ? "always" : "never");
        if (scheme == "always")
            step.prepend = Prepend::Always;
        else if (scheme == "first")
            step.prepend = Prepend::First;
        else if (scheme == "never")
            step.prepend = Prepend::Never;
        else
            throw FormatError(fmt::format("Tokenizer file {} has a Metaspace pre-tokenizer with unknown prepend_scheme "
                                          "{}.",
                                          file, scheme));
        step.splitWords = j.value("split", true);
    } else if (type == "Whitespace") {
        step.regex = std::make_shared<PcreRegex>("\\w+|[^\\w\\s]+", false, file);
        step.behavior = Behavior::Removed;
        step.invert = true;
    } else if (type == "WhitespaceSplit") {
        step.regex = std::make_shared<PcreRegex>("\\s+", false, file);
        step.behavior = Behavior::Removed;
    } else if (type == "CharDelimiterSplit") {
        step.regex = std::make_shared<PcreRegex>(jsonString(j, "delimiter", "CharDelimiterSplit", file), true, file);
        step.behavior = Behavior::Removed;
    } else if (type == "Digits") {
        step.regex =
            std::make_shared<PcreRegex>(j.value("individual_digits", false) ? "\\p{N}" : "\\p{N}+", false, file);
    } else {
        throw UnsupportedError(
            fmt::format("Tokenizer file {} uses pre-tokenizer {}, which attnscope does not support.", file, type));
    }
    m_steps.push_back(std::move(step));
}

std::vector<OffsetText> HfPreTokenizer::split(OffsetText text) const {
    std::vector<OffsetText> pieces;
    if (!text.empty()) pieces.push_back(std::move(text));
    for (const Step& step : m_steps) {
        std::vector<OffsetText> next;
        for (OffsetText& piece : pieces)
            applyStep(step, std::move(piece), next);
        pieces = std::move(next);
    }
    return pieces;
}

void HfPreTokenizer::applyStep(const Step& step, OffsetText piece, std::vector<OffsetText>& out) {
    switch (step.kind) {
    case Kind::Split:
        splitBy(piece, step.regex->findAll(piece.text()), step.behavior, step.invert, out);
        return;
    case Kind::ByteLevel: {
        if (step.addPrefixSpace && piece.text().front() != ' ') piece.prepend(" ");
        std::vector<OffsetText> words;
        if (step.regex)
            splitBy(piece, step.regex->findAll(piece.text()), Behavior::Isolated, false, words);
        else
            words.push_back(std::move(piece));
        const ByteLevelMap& map = ByteLevelMap::instance();
        for (const OffsetText& w : words)
            out.push_back(w.mappedBytes([&](unsigned char b) -> const std::string& { return map.encode(b); }));
        return;
    }
    case Kind::Metaspace: {
        piece = piece.replaced(findLiteral(piece.text(), " "), step.replacement);
        const bool starts = piece.text().starts_with(step.replacement);
        if (!starts && (step.prepend == Prepend::Always || (step.prepend == Prepend::First && piece.inputBegin() == 0)))
            piece.prepend(step.replacement);
        if (step.splitWords)
            splitBy(piece, findLiteral(piece.text(), step.replacement), Behavior::MergedWithNext, false, out);
        else
            out.push_back(std::move(piece));
        return;
    }
    }
}

void HfPreTokenizer::splitBy(const OffsetText& piece, const std::vector<std::pair<size_t, size_t>>& matches,
                             Behavior behavior, bool invert, std::vector<OffsetText>& out) {
    // The piece as alternating parts (begin, end, isMatch), as HF's NormalizedString::split sees it.
    std::vector<std::tuple<size_t, size_t, bool>> parts;
    size_t pos = 0;
    for (const auto& [b, e] : matches) {
        if (b > pos) parts.emplace_back(pos, b, invert);
        parts.emplace_back(b, e, !invert);
        pos = e;
    }
    if (pos < piece.size()) parts.emplace_back(pos, piece.size(), invert);

    std::vector<std::pair<size_t, size_t>> kept;
    bool previousMatch = false;
    switch (behavior) {
    case Behavior::Removed:
        for (const auto& [b, e, m] : parts)
            if (!m) kept.emplace_back(b, e);
        break;
    case Behavior::Isolated:
        for (const auto& [b, e, m] : parts)
            kept.emplace_back(b, e);
        break;
    case Behavior::Contiguous:
        for (const auto& [b, e, m] : parts) {
            if (m && previousMatch)
                kept.back().second = e;
            else
                kept.emplace_back(b, e);
            previousMatch = m;
        }
        break;
    case Behavior::MergedWithPrevious:
        for (const auto& [b, e, m] : parts) {
            if (m && !previousMatch && !kept.empty())
                kept.back().second = e;
            else
                kept.emplace_back(b, e);
            previousMatch = m;
        }
        break;
    case Behavior::MergedWithNext:
        for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
            const auto& [b, e, m] = *it;
            if (m && !previousMatch && !kept.empty())
                kept.back().first = b;
            else
                kept.emplace_back(b, e);
            previousMatch = m;
        }
        std::reverse(kept.begin(), kept.end());
        break;
    }
    for (const auto& [b, e] : kept)
        if (e > b) out.push_back(piece.slice(b, e));
}

bool HfPreTokenizer::byteLevel() const {
    return std::any_of(m_steps.begin(), m_steps.end(), [](const Step& s) { return s.kind == Kind::ByteLevel; });
}

bool HfPreTokenizer::metaspacePrepends() const {
    return std::any_of(m_steps.begin(), m_steps.end(),
                       [](const Step& s) { return s.kind == Kind::Metaspace && s.prepend != Prepend::Never; });
}

std::string HfPreTokenizer::metaspaceReplacement() const {
    for (const Step& s : m_steps)
        if (s.kind == Kind::Metaspace) return s.replacement;
    return {};
}

} // namespace attnscope::core

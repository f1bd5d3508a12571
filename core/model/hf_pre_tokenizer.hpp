#pragma once
// A tokenizer.json "pre_tokenizer" that cuts normalised text into words: Sequence, Split, ByteLevel, Metaspace,
// Whitespace, WhitespaceSplit, Digits. Byte-level words come out already mapped to GPT-2's printable characters.
#include "model/offset_text.hpp"
#include "model/pcre_regex.hpp"

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <string>
#include <vector>

namespace attnscope::core {

class HfPreTokenizer {
public:
    // j: the "pre_tokenizer" object (not null). Throws UnsupportedError or FormatError naming file.
    static std::unique_ptr<HfPreTokenizer> fromJson(const nlohmann::json& j, const std::string& file);
    // GPT-2's regex then byte-level mapping: the pre-tokenizer GGUF "gpt2" vocabularies get.
    static std::unique_ptr<HfPreTokenizer> gpt2ByteLevel(const std::string& file);

    std::vector<OffsetText> split(OffsetText text) const;
    bool byteLevel() const;
    // Whether a Metaspace step prepends its replacement to the first word (decoding strips the space again).
    bool metaspacePrepends() const;
    // The Metaspace step's replacement for spaces, or empty when there is none.
    std::string metaspaceReplacement() const;

private:
    enum class Kind { Split, ByteLevel, Metaspace };
    enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };
    enum class Prepend { Always, First, Never };
    struct Step {
        Kind kind = Kind::Split;
        std::shared_ptr<PcreRegex> regex; // Split; ByteLevel with use_regex
        Behavior behavior = Behavior::Isolated;
        bool invert = false;
        bool addPrefixSpace = false; // ByteLevel
        std::string replacement;     // Metaspace
        Prepend prepend = Prepend::Always;
        bool splitWords = true; // Metaspace
    };
    void addSteps(const nlohmann::json& j, const std::string& file);
    static void splitBy(const OffsetText& piece, const std::vector<std::pair<size_t, size_t>>& matches,
                        Behavior behavior, bool invert, std::vector<OffsetText>& out);
    static void applyStep(const Step& step, OffsetText piece, std::vector<OffsetText>& out);

    std::vector<Step> m_steps;
};

} // namespace attnscope::core

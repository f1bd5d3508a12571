#pragma once
// The organism's word-level vocabulary: ids 0-3 are <bos> <eos> <unk> <pad>, then every word the story generator
// emits, in a fixed order (ids never depend on a seed). Written as a Hugging Face WordLevel tokenizer.json.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace attnscope::core {

// The fixed word lists stories are made of. Every list is disjoint from the others except where noted.
struct StoryWords {
    std::vector<std::string> names;      // fact subjects and recipients
    std::vector<std::string> places;     // "went to the PLACE"
    std::vector<std::string> objects;    // things hidden, given, owned; also in random spans
    std::vector<std::string> colours;    // answers of hide and colour questions
    std::vector<std::string> containers; // "in the COLOUR CONTAINER"
    std::vector<std::string> fillerNouns;
    std::vector<std::string> fillerAdjectives;
    std::vector<std::string> fillerVerbs; // intransitive, past tense
    std::vector<std::string> prepositions;
    std::vector<std::string> structural; // function words and punctuation of the sentence templates
    std::vector<std::string> unanswered; // the answer to a question no fact answers; after the lists above, so
                                         // older ids stay
    std::vector<std::string> echoes;     // "The big dog too dog ran .": the word before an echo word comes again; last
};

const StoryWords& storyWords();

class OrganismVocab {
public:
    static constexpr int32_t kBos = 0;
    static constexpr int32_t kEos = 1;
    static constexpr int32_t kUnk = 2;
    static constexpr int32_t kPad = 3;

    OrganismVocab();

    // -1 for a word outside the vocabulary (the tokenizer would map it to <unk>).
    int32_t id(std::string_view word) const;
    const std::string& word(int32_t id) const;
    int64_t size() const { return static_cast<int64_t>(m_words.size()); }
    const std::vector<std::string>& words() const { return m_words; }
    // True for this vocabulary's size and for the older ones without the echo words, and without the unanswered
    // words too (organisms trained before they existed, whose ids are the same prefix).
    bool isOrganismSize(int64_t vocabSize) const;

    // Writes tokenizer.json (WordLevel, WhitespaceSplit, <bos> prepended by the post-processor) and
    // tokenizer_config.json into folder, creating it. Throws FileError naming the file it cannot write.
    void writeHfTokenizer(const std::filesystem::path& folder, int64_t modelMaxLength = 512) const;

private:
    struct Hash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    std::vector<std::string> m_words;
    std::unordered_map<std::string, int32_t, Hash, std::equal_to<>> m_ids;
};

const OrganismVocab& organismVocab();

} // namespace attnscope::core

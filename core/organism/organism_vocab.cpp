#include "organism/organism_vocab.hpp"

#include "errors.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cassert>
#include <fstream>

namespace attnscope::core {
namespace {

const char* const kSpecials[] = {"<bos>", "<eos>", "<unk>", "<pad>"};

void writeJson(const std::filesystem::path& path, const nlohmann::ordered_json& j) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw FileError(fmt::format("Cannot open {} for writing.", path.string()));
    out << j.dump(2) << '\n';
    if (!out) throw FileError(fmt::format("Cannot write {} (disk full or permission denied).", path.string()));
}

} // namespace

const StoryWords& storyWords() {
    static const StoryWords words{
        .names = {"Mia", "Tom",  "Ana",  "Ben",  "Lily", "Sam",  "Zoe",  "Max",  "Ella", "Leo",  "Nina", "Jack",
                  "Ava", "Finn", "Ruby", "Owen", "Iris", "Noah", "Lena", "Hugo", "Rosa", "Theo", "Emma", "Luke"},
        .places = {"park", "school", "market", "beach", "library", "garden", "station", "bakery", "farm", "castle",
                   "museum", "harbor", "forest", "village", "bridge", "zoo"},
        .objects = {"key",   "ball",   "book", "hat",  "ring", "coin", "map",   "cup",   "kite", "shoe",
                    "spoon", "letter", "lamp", "bell", "doll", "drum", "brush", "apple", "sock", "watch"},
        .colours = {"red", "blue", "green", "yellow", "black", "white", "brown", "pink", "purple", "orange", "grey",
                    "gold"},
        .containers = {"box", "bag", "basket", "drawer", "jar", "chest", "pot", "bucket", "tin", "case"},
        .fillerNouns = {"dog",   "cat",  "bird", "sun",  "wind", "rain", "tree", "river", "cloud", "fox",
                        "horse", "duck", "frog", "boat", "road", "hill", "moon", "sky",   "owl",   "mouse"},
        .fillerAdjectives = {"small", "big", "old", "young", "quiet", "loud", "happy", "sleepy", "tall", "warm", "cold",
                             "slow", "fast", "soft"},
        .fillerVerbs = {"ran", "sang", "slept", "waited", "jumped", "walked", "smiled", "rested", "danced", "played",
                        "swam", "flew", "sat", "hummed"},
        .prepositions = {"by", "near", "over", "under", "behind"},
        .structural = {".",   "?",    "The",  "the", "A",    "a",     "It",  "was",    "and",
                       "day", "in",   "In",   "to",  "To",   "Where", "Who", "What",   "did",
                       "hid", "hide", "went", "go",  "gave", "give",  "had", "colour", "that"},
        .unanswered = {"Nobody", "knows"},
        .echoes = {"too", "again", "also"},
    };
    return words;
}

OrganismVocab::OrganismVocab() {
    const auto add = [this](const std::string& w) {
        assert(!m_ids.contains(w) && "story word lists must not share a word: each word gets one id");
        m_ids.emplace(w, static_cast<int32_t>(m_words.size()));
        m_words.push_back(w);
    };
    for (const char* s : kSpecials)
        add(s);
    const StoryWords& w = storyWords();
    for (const auto* list : {&w.structural, &w.names, &w.places, &w.objects, &w.colours, &w.containers, &w.fillerNouns,
                             &w.fillerAdjectives, &w.fillerVerbs, &w.prepositions, &w.unanswered, &w.echoes})
        for (const std::string& word : *list)
            add(word);
}

bool OrganismVocab::isOrganismSize(int64_t vocabSize) const {
    const auto echoes = static_cast<int64_t>(storyWords().echoes.size());
    const auto unanswered = static_cast<int64_t>(storyWords().unanswered.size());
    return vocabSize == size() || vocabSize == size() - echoes || vocabSize == size() - echoes - unanswered;
}

int32_t OrganismVocab::id(std::string_view word) const {
    const auto it = m_ids.find(word);
    return it == m_ids.end() ? -1 : it->second;
}

const std::string& OrganismVocab::word(int32_t id) const {
    assert(id >= 0 && id < size() && "OrganismVocab::word: id out of range");
    return m_words[static_cast<size_t>(id)];
}

void OrganismVocab::writeHfTokenizer(const std::filesystem::path& folder, int64_t modelMaxLength) const {
    std::error_code ec;
    std::filesystem::create_directories(folder, ec);
    if (ec) throw FileError(fmt::format("Cannot create the folder {} ({}).", folder.string(), ec.message()));

    nlohmann::ordered_json added = nlohmann::ordered_json::array();
    for (int32_t id = 0; id < static_cast<int32_t>(std::size(kSpecials)); ++id)
        added.push_back({{"id", id},
                         {"content", m_words[static_cast<size_t>(id)]},
                         {"single_word", false},
                         {"lstrip", false},
                         {"rstrip", false},
                         {"normalized", false},
                         {"special", true}});
    nlohmann::ordered_json vocab = nlohmann::ordered_json::object();
    for (size_t id = 0; id < m_words.size(); ++id)
        vocab[m_words[id]] = id;
    const auto bosItem = nlohmann::ordered_json{{"SpecialToken", {{"id", "<bos>"}, {"type_id", 0}}}};
    const auto seqItem = [](const char* name) {
        return nlohmann::ordered_json{{"Sequence", {{"id", name}, {"type_id", 0}}}};
    };
    nlohmann::ordered_json tokenizer = {
        {"version", "1.0"},
        {"truncation", nullptr},
        {"padding", nullptr},
        {"added_tokens", added},
        {"normalizer", nullptr},
        {"pre_tokenizer", {{"type", "WhitespaceSplit"}}},
        // BOS comes from the post-processor, as in Llama tokenizers, so encode(text) gives the training ids.
        {"post_processor",
         {{"type", "TemplateProcessing"},
          {"single", {bosItem, seqItem("A")}},
          {"pair", {bosItem, seqItem("A"), bosItem, seqItem("B")}},
          {"special_tokens", {{"<bos>", {{"id", "<bos>"}, {"ids", {kBos}}, {"tokens", {"<bos>"}}}}}}}},
        // No decoder: Hugging Face then joins WordLevel tokens with single spaces, which is our text format.
        {"decoder", nullptr},
        {"model", {{"type", "WordLevel"}, {"vocab", vocab}, {"unk_token", "<unk>"}}},
    };
    writeJson(folder / "tokenizer.json", tokenizer);

    const nlohmann::ordered_json config = {
        {"tokenizer_class", "PreTrainedTokenizerFast"},
        {"bos_token", "<bos>"},
        {"eos_token", "<eos>"},
        {"unk_token", "<unk>"},
        {"pad_token", "<pad>"},
        {"add_bos_token", true},
        {"add_eos_token", false},
        {"model_max_length", modelMaxLength},
        {"clean_up_tokenization_spaces", false},
    };
    writeJson(folder / "tokenizer_config.json", config);
}

const OrganismVocab& organismVocab() {
    static const OrganismVocab vocab;
    return vocab;
}

} // namespace attnscope::core

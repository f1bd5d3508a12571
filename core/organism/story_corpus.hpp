#pragma once
// Deterministic story corpus for the model organism: sample (seed, split, index) -> words, ids and the positions of
// every fact, question answer and repeated span. All positions are token indexes into the sample (0 is <bos>).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace attnscope::core {

class SplitMix64;

// How a question is answered: "Where did Mia hide the key ? In the blue box ." (Short) or by restating the fact,
// "Where did Mia hide the key ? Mia hid the key in the blue box ." (Restate). Restated answers can be copied from the
// fact by matching the words before them (what retrieval heads do), so they are learned far sooner.
enum class AnswerForm { Short, Restate };

// Ranges are inclusive. The defaults keep every sample within 512 tokens (see maxSampleLength()).
struct StoryConfig {
    // Most tokens are filler whose loss reaches its floor early; what is left to learn is carried by the answers
    // and the repeated spans, so they are made common: a first organism trained on 2-4 facts and a 25% repeat share
    // learned neither retrieval nor induction in 1500 steps.
    int64_t minFacts = 3, maxFacts = 5;
    int64_t minFiller = 0, maxFiller = 34; // filler sentences between the facts and the questions
    double repeatShare = 0.75;             // share of samples holding a repeated random span
    int64_t minRepeatLength = 8, maxRepeatLength = 24;
    // Filler sentences between the two copies of a repeated span (0: the second copy follows the first at once). The
    // organism's induction heads copy only as far back as they were trained to: with adjacent copies (at most 24
    // words back) they fail to copy the word after a fact's answer word 200 tokens back ("In the blue" -> "box").
    // 0 keeps the random stream, and so every story, exactly as before the option existed.
    int64_t minRepeatGap = 0, maxRepeatGap = 0;
    // With a gap range, the share of spans that get a gap; the rest keep adjacent copies (a continuation trained on
    // gaps alone stopped copying adjacent ones). Drawn only when below 1.
    double repeatGapShare = 1.0;
    AnswerForm answerForm = AnswerForm::Short;
    // Share of stories that also ask about someone no fact mentions ("Where did Zoe go ? Nobody knows ."): the
    // retrieval heads then need somewhere to look when nothing matches, which is what an attention sink is. 0 keeps
    // the random stream, and so every story, exactly as before the option existed.
    double unanswerableShare = 0.0;
    // Share of filler sentences with an echo: after one of their words comes an echo word and that word again ("The
    // big dog too dog ran ."). This is the Bigram-Backcopy task of Guo et al. 2024 (arXiv:2410.13835): a head that
    // copies the word before an echo word must do nothing everywhere else, and heads that must do nothing most of the
    // time park their attention on <bos>, which is what an attention sink is. 0 keeps every story as before.
    double echoShare = 0.0;
    // Share of filler sentences that, in a story that hides something, mention a hidden object's colour and container
    // again ("The cat slept in the blue box ."). Organisms trained without it answered "In the" with the fact's colour
    // but then guessed the container: after "in the COLOUR" they learned only the container slot of facts, where the
    // word is new, and never copied there. A mention is that slot with the word to copy (hide answers 9/50 -> 49/50).
    // 0 keeps every story as before.
    double mentionShare = 0.0;
};

enum class QuestionKind { Hide, Go, Give, Colour };
inline constexpr size_t kQuestionKinds = 4;
// "hide", "go", "give", "colour".
const char* questionKindName(QuestionKind kind);

struct StoryQuestion {
    QuestionKind kind = QuestionKind::Hide;
    int64_t factStart = 0;       // first word of the fact sentence
    int64_t factAnswerIndex = 0; // first answer word inside the fact ("blue" in "... in the blue box .")
    int64_t questionStart = 0;   // first word of the question ("Where")
    int64_t answerStart = 0;     // first answer word after the question; the token a retrieval head must produce
    std::vector<std::string> answerWords; // the same in the fact and in the answer: {"blue", "box"}
    int64_t distance() const { return answerStart - factAnswerIndex; }
};

// Random words at [firstStart, firstStart + length), copied verbatim at [secondStart, secondStart + length).
struct RepeatedSpan {
    int64_t firstStart = 0;
    int64_t secondStart = 0;
    int64_t length = 0;
};

struct StorySample {
    std::vector<std::string> words; // words.front() == "<bos>", words.back() == "<eos>"
    std::vector<int32_t> ids;       // OrganismVocab ids of words
    std::vector<StoryQuestion> questions;
    std::optional<RepeatedSpan> repeat;
    std::optional<int64_t> unanswerableStart; // "Where" of the question no fact answers, when the story has one
    std::vector<int64_t> echoes;              // each echo word; the words before and after it are the same
    std::vector<int64_t> mentions;            // each mention's container, right after its colour
    // The words after <bos> joined by single spaces: what the tokenizer encodes back to ids (it adds <bos>).
    std::string text() const;
};

enum class CorpusSplit { Train, HeldOut };

class StoryCorpus {
public:
    // Throws ArgumentError for an inconsistent config.
    explicit StoryCorpus(uint64_t seed, StoryConfig config = {});

    // Each (split, index) has its own seed stream, so samples can be drawn in any order and the splits never share
    // a stream.
    StorySample sample(CorpusSplit split, int64_t index) const;
    std::vector<StorySample> samples(CorpusSplit split, int64_t first, int64_t count) const;
    const StoryConfig& config() const { return m_config; }

private:
    uint64_t m_seed;
    StoryConfig m_config;
};

// One filler sentence of the story grammar (its last word is "."), drawn from rng exactly as stories draw theirs.
// The words point into storyWords() and string literals, so they stay valid.
std::vector<std::string_view> fillerSentence(SplitMix64& rng);

// An upper bound on a sample's length in tokens under config.
int64_t maxSampleLength(const StoryConfig& config);

// Where a sample landed in the packed rows.
struct PackedPlacement {
    int64_t sample = 0;
    int64_t row = 0;
    int64_t offset = 0;
};

// Row-major [rows, seqLen] ids. Whole samples go first-fit into the last 64 rows, so every row starts with <bos> and
// no sample is split; the rest of a row is <pad> (lengths[row] tokens are real). Deterministic.
struct PackedSequences {
    int64_t seqLen = 0;
    int64_t rows = 0;
    std::vector<int32_t> ids;
    std::vector<int64_t> lengths;
    std::vector<PackedPlacement> placements; // one per sample, in sample order
};

// Throws ArgumentError when a sample is longer than seqLen.
PackedSequences packSamples(const std::vector<StorySample>& samples, int64_t seqLen);

} // namespace attnscope::core

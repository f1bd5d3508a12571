#include "organism/story_corpus.hpp"

#include "errors.hpp"
#include "organism/organism_vocab.hpp"
#include "split_mix.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <initializer_list>
#include <numeric>

namespace attnscope::core {
namespace {

// Longest sentence each part can produce; maxSampleLength() adds them up, the tests hold the generator to them.
constexpr int64_t kMaxFactWords = 9;      // NAME hid the OBJ in the COLOUR CONTAINER .
constexpr int64_t kMaxFillerWords = 10;   // The NOUN was ADJ and the NOUN was ADJ . (a mention has 8)
constexpr int64_t kMaxQuestionWords = 13; // What colour was the OBJ that NAME had ? It was COLOUR .
constexpr int64_t kMaxRestatedQuestionWords =
    16; // Where did NAME hide the OBJ ? NAME hid the OBJ in the COLOUR CONTAINER .
constexpr int64_t kMaxUnanswerableWords = 12; // What colour was the OBJ that NAME had ? Nobody knows .
constexpr int64_t kEchoWords = 2;             // an echo word and the word it echoes, inside a filler sentence
constexpr int64_t kMaxFacts = 12;             // every fact takes up to two distinct names out of 24, one colour of 12

uint64_t splitSalt(CorpusSplit split) {
    return split == CorpusSplit::Train ? 0x7472'6169'6E00'0001ull : 0x6865'6C64'6F75'7402ull;
}

const std::string& pick(SplitMix64& rng, const std::vector<std::string>& list) {
    return list[static_cast<size_t>(rng.below(static_cast<int64_t>(list.size())))];
}

template <typename T> void shuffle(SplitMix64& rng, std::vector<T>& v) {
    for (int64_t i = static_cast<int64_t>(v.size()) - 1; i > 0; --i)
        std::swap(v[static_cast<size_t>(i)], v[static_cast<size_t>(rng.below(i + 1))]);
}

// n distinct words, so that no two facts of a story share a subject or an answer.
std::vector<std::string> pickDistinct(SplitMix64& rng, const std::vector<std::string>& list, int64_t n) {
    assert(n <= static_cast<int64_t>(list.size()) && "pickDistinct: more words asked for than the list holds");
    std::vector<std::string> copy = list;
    for (int64_t i = 0; i < n; ++i)
        std::swap(copy[static_cast<size_t>(i)], copy[static_cast<size_t>(rng.between(i, int64_t(copy.size()) - 1))]);
    copy.resize(static_cast<size_t>(n));
    return copy;
}

struct Fact {
    QuestionKind kind;
    std::string name, recipient, object, colour, container, place;
};

class StoryBuilder {
public:
    StoryBuilder(SplitMix64& rng, const StoryConfig& config) : m_rng(rng), m_config(config) {}

    StorySample build() {
        push({"<bos>"});
        const std::vector<Fact> facts = drawFacts(m_rng.between(m_config.minFacts, m_config.maxFacts));
        std::vector<StoryQuestion> questions;
        for (const Fact& f : facts)
            questions.push_back(writeFact(f));
        const int64_t filler = m_rng.between(m_config.minFiller, m_config.maxFiller);
        const bool repeat = m_rng.chance(m_config.repeatShare);
        const int64_t repeatAt = repeat ? m_rng.between(0, filler) : -1;
        // Drawn only when asked for, so that stories without the option stay what they were.
        const bool gapped = repeat && m_config.maxRepeatGap > 0 &&
                            (m_config.repeatGapShare >= 1.0 || m_rng.chance(m_config.repeatGapShare));
        const int64_t gap = gapped ? m_rng.between(m_config.minRepeatGap, m_config.maxRepeatGap) : 0;
        const int64_t secondAt = gap > 0 ? std::min(repeatAt + gap, filler) : -1;
        std::vector<std::string> span;
        for (int64_t k = 0; k <= filler; ++k) {
            if (k == repeatAt) {
                span = drawSpan(facts);
                m_sample.repeat = RepeatedSpan{pos(), 0, int64_t(span.size())};
                pushSpan(span, gap == 0 ? 2 : 1);
            }
            if (k == secondAt) {
                m_sample.repeat->secondStart = pos();
                pushSpan(span, 1);
            }
            if (k < filler) writeFiller(facts);
        }
        std::vector<size_t> order(facts.size());
        std::iota(order.begin(), order.end(), size_t{0});
        shuffle(m_rng, order);
        // Drawn only when asked for, so that stories without the option stay what they were.
        const int64_t unanswerableAt = m_config.unanswerableShare > 0.0 && m_rng.chance(m_config.unanswerableShare)
                                           ? m_rng.between(0, int64_t(order.size()))
                                           : -1;
        for (size_t k = 0; k <= order.size(); ++k) {
            if (int64_t(k) == unanswerableAt) writeUnanswerable(facts);
            if (k < order.size()) writeQuestion(facts[order[k]], questions[order[k]]);
        }
        push({"<eos>"});
        m_sample.questions = std::move(questions);
        return std::move(m_sample);
    }

private:
    int64_t pos() const { return static_cast<int64_t>(m_sample.words.size()); }

    void push(std::initializer_list<std::string_view> words) {
        for (std::string_view w : words) {
            const int32_t id = organismVocab().id(w);
            assert(id >= 0 && "the story generator emitted a word outside OrganismVocab");
            m_sample.words.emplace_back(w);
            m_sample.ids.push_back(id);
        }
    }

    std::vector<Fact> drawFacts(int64_t n) {
        const StoryWords& w = storyWords();
        const auto names = pickDistinct(m_rng, w.names, 2 * n);
        const auto objects = pickDistinct(m_rng, w.objects, n);
        const auto colours = pickDistinct(m_rng, w.colours, n);
        const auto places = pickDistinct(m_rng, w.places, n);
        std::vector<Fact> facts;
        for (size_t i = 0; i < static_cast<size_t>(n); ++i)
            facts.push_back({static_cast<QuestionKind>(m_rng.below(int64_t(kQuestionKinds))), names[2 * i],
                             names[2 * i + 1], objects[i], colours[i], pick(m_rng, w.containers), places[i]});
        return facts;
    }

    // Records where the fact and its answer words are; the question part is filled in by writeQuestion().
    StoryQuestion writeFact(const Fact& f) {
        StoryQuestion q;
        q.kind = f.kind;
        q.factStart = pos();
        q.answerWords = answerWords(f);
        q.factAnswerIndex = pushFactSentence(f, q);
        return q;
    }

    static std::vector<std::string> answerWords(const Fact& f) {
        switch (f.kind) {
        case QuestionKind::Hide:
            return {f.colour, f.container};
        case QuestionKind::Go:
            return {f.place};
        case QuestionKind::Give:
            return {f.recipient};
        case QuestionKind::Colour:
            return {f.colour};
        }
        return {};
    }

    // The fact's sentence; returns where its answer words begin.
    int64_t pushFactSentence(const Fact& f, const StoryQuestion& q) {
        switch (f.kind) {
        case QuestionKind::Hide:
            push({f.name, "hid", "the", f.object, "in", "the"});
            break;
        case QuestionKind::Go:
            push({f.name, "went", "to", "the"});
            break;
        case QuestionKind::Give:
            push({f.name, "gave", "the", f.object, "to"});
            break;
        case QuestionKind::Colour:
            push({f.name, "had", "a"});
            break;
        }
        const int64_t answerAt = pos();
        pushAnswer(q);
        if (f.kind == QuestionKind::Colour) push({f.object});
        push({"."});
        return answerAt;
    }

    void pushQuestion(const Fact& f) {
        switch (f.kind) {
        case QuestionKind::Hide:
            push({"Where", "did", f.name, "hide", "the", f.object, "?"});
            break;
        case QuestionKind::Go:
            push({"Where", "did", f.name, "go", "?"});
            break;
        case QuestionKind::Give:
            push({"Who", "did", f.name, "give", "the", f.object, "to", "?"});
            break;
        case QuestionKind::Colour:
            push({"What", "colour", "was", "the", f.object, "that", f.name, "had", "?"});
            break;
        }
    }

    void writeQuestion(const Fact& f, StoryQuestion& q) {
        q.questionStart = pos();
        pushQuestion(f);
        if (m_config.answerForm == AnswerForm::Restate) {
            q.answerStart = pushFactSentence(f, q);
            return;
        }
        switch (f.kind) {
        case QuestionKind::Hide:
            push({"In", "the"});
            break;
        case QuestionKind::Go:
            push({"To", "the"});
            break;
        case QuestionKind::Give:
            push({"To"});
            break;
        case QuestionKind::Colour:
            push({"It", "was"});
            break;
        }
        q.answerStart = pos();
        pushAnswer(q);
        push({"."});
    }

    // A question about a name no fact of this story has, of any kind, answered "Nobody knows .".
    void writeUnanswerable(const std::vector<Fact>& facts) {
        const StoryWords& w = storyWords();
        std::string name;
        do
            name = pick(m_rng, w.names);
        while (std::any_of(facts.begin(), facts.end(),
                           [&](const Fact& f) { return name == f.name || name == f.recipient; }));
        Fact f{static_cast<QuestionKind>(m_rng.below(int64_t(kQuestionKinds))),
               name,
               {},
               pick(m_rng, w.objects),
               {},
               {},
               {}};
        m_sample.unanswerableStart = pos();
        pushQuestion(f);
        push({"Nobody", "knows", "."});
    }

    void pushAnswer(const StoryQuestion& q) {
        for (const std::string& w : q.answerWords)
            push({w});
    }

    void writeFiller(const std::vector<Fact>& facts) {
        // Drawn only when asked for, so that stories without the option stay what they were.
        if (m_config.mentionShare > 0.0 && m_rng.chance(m_config.mentionShare)) {
            std::vector<const Fact*> hidden;
            for (const Fact& f : facts)
                if (f.kind == QuestionKind::Hide) hidden.push_back(&f);
            if (!hidden.empty()) {
                writeMention(*hidden[static_cast<size_t>(m_rng.below(int64_t(hidden.size())))]);
                return;
            }
        }
        const std::vector<std::string_view> sentence = fillerSentence(m_rng);
        // Drawn only when asked for, so that stories without the option stay what they were.
        const bool echo = m_config.echoShare > 0.0 && m_rng.chance(m_config.echoShare);
        // Any word but the final "." can be echoed; the echo word comes right after it, then the word again.
        const int64_t echoAfter = echo ? m_rng.between(0, int64_t(sentence.size()) - 2) : -1;
        const std::string_view echoWord = echo ? std::string_view(pick(m_rng, storyWords().echoes)) : "";
        for (size_t i = 0; i < sentence.size(); ++i) {
            push({sentence[i]});
            if (int64_t(i) == echoAfter) {
                m_sample.echoes.push_back(pos());
                push({echoWord, sentence[i]});
            }
        }
    }

    // "The NOUN VERB in the COLOUR CONTAINER .": the hidden object's colour and container, as the fact has them.
    void writeMention(const Fact& f) {
        const StoryWords& w = storyWords();
        const std::string& noun = pick(m_rng, w.fillerNouns);
        const std::string& verb = pick(m_rng, w.fillerVerbs);
        push({"The", noun, verb, "in", "the", f.colour});
        m_sample.mentions.push_back(pos());
        push({f.container, "."});
    }

    // Random words for a repeated span: the second copy is predictable only by looking back (induction).
    std::vector<std::string> drawSpan(const std::vector<Fact>& facts) {
        const StoryWords& w = storyWords();
        // Every kind of word a question can ask for is in the pools: a model that never copies a category in the
        // spans never learns to copy it at all (organisms trained without names, places and colours here copied
        // objects perfectly and answered questions about everything else at chance).
        std::vector<const std::vector<std::string>*> pools = {
            &w.fillerNouns, &w.fillerAdjectives, &w.fillerVerbs, &w.objects,
            &w.names,       &w.places,           &w.colours,     &w.containers};
        const int64_t length = m_rng.between(m_config.minRepeatLength, m_config.maxRepeatLength);
        std::vector<std::string> span;
        // The story's own fact words stay out, so each answer word is still written once before its question.
        const auto inFacts = [&](const std::string& word) {
            return std::any_of(facts.begin(), facts.end(), [&](const Fact& f) {
                return word == f.name || word == f.recipient || word == f.object || word == f.colour ||
                       word == f.container || word == f.place;
            });
        };
        while (static_cast<int64_t>(span.size()) < length) {
            const std::string& word = pick(m_rng, *pools[static_cast<size_t>(m_rng.below(int64_t(pools.size())))]);
            if (!inFacts(word)) span.push_back(word);
        }
        return span;
    }

    // copies x the span, then "."; a span written twice at once has its second copy right after the first.
    void pushSpan(const std::vector<std::string>& span, int copies) {
        for (int copy = 0; copy < copies; ++copy) {
            if (copy == 1) m_sample.repeat->secondStart = pos();
            for (const std::string& s : span)
                push({s});
        }
        push({"."});
    }

    SplitMix64& m_rng;
    const StoryConfig& m_config;
    StorySample m_sample;
};

} // namespace

std::vector<std::string_view> fillerSentence(SplitMix64& rng) {
    const StoryWords& w = storyWords();
    const auto noun = [&] { return std::string_view(pick(rng, w.fillerNouns)); };
    const auto adj = [&] { return std::string_view(pick(rng, w.fillerAdjectives)); };
    const auto verb = [&] { return std::string_view(pick(rng, w.fillerVerbs)); };
    const auto prep = [&] { return std::string_view(pick(rng, w.prepositions)); };
    // Each argument is drawn in its own statement: the order of evaluation inside one call is unspecified.
    switch (rng.below(5)) {
    case 0: {
        const auto a = adj(), n = noun(), v = verb();
        return {"The", a, n, v, "."};
    }
    case 1: {
        const auto n = noun(), v = verb(), p = prep(), n2 = noun();
        return {"The", n, v, p, "the", n2, "."};
    }
    case 2: {
        const auto a = adj(), n = noun(), v = verb(), p = prep(), a2 = adj(), n2 = noun();
        return {"A", a, n, v, p, "the", a2, n2, "."};
    }
    case 3: {
        const auto a = adj();
        return {"It", "was", "a", a, "day", "."};
    }
    default: {
        const auto n = noun(), a = adj(), n2 = noun(), a2 = adj();
        return {"The", n, "was", a, "and", "the", n2, "was", a2, "."};
    }
    }
}

const char* questionKindName(QuestionKind kind) {
    switch (kind) {
    case QuestionKind::Hide:
        return "hide";
    case QuestionKind::Go:
        return "go";
    case QuestionKind::Give:
        return "give";
    case QuestionKind::Colour:
        return "colour";
    }
    return "?";
}

std::string StorySample::text() const {
    std::string out;
    for (size_t i = 1; i < words.size(); ++i) {
        if (i > 1) out += ' ';
        out += words[i];
    }
    return out;
}

StoryCorpus::StoryCorpus(uint64_t seed, StoryConfig config) : m_seed(seed), m_config(config) {
    const StoryConfig& c = m_config;
    if (c.minFacts < 1 || c.maxFacts < c.minFacts || c.maxFacts > kMaxFacts)
        throw ArgumentError(fmt::format("The story corpus needs 1 <= min facts <= max facts <= {}, not {} and {}.",
                                        kMaxFacts, c.minFacts, c.maxFacts));
    if (c.minFiller < 0 || c.maxFiller < c.minFiller)
        throw ArgumentError(fmt::format("The story corpus needs 0 <= min filler <= max filler, not {} and {}.",
                                        c.minFiller, c.maxFiller));
    const auto share = [](const char* what, double v) {
        if (!(v >= 0.0 && v <= 1.0))
            throw ArgumentError(fmt::format("The story corpus needs {} share in [0, 1], not {}.", what, v));
    };
    share("a repeat", c.repeatShare);
    share("an unanswerable", c.unanswerableShare);
    share("an echo", c.echoShare);
    share("a mention", c.mentionShare);
    share("a repeat gap", c.repeatGapShare);
    if (c.minRepeatGap < 0 || c.maxRepeatGap < c.minRepeatGap)
        throw ArgumentError(fmt::format("The story corpus needs 0 <= min repeat gap <= max repeat gap, not {} and {}.",
                                        c.minRepeatGap, c.maxRepeatGap));
    if (c.minRepeatLength < 1 || c.maxRepeatLength < c.minRepeatLength)
        throw ArgumentError(fmt::format("The story corpus needs 1 <= min repeat length <= max repeat length, not {} "
                                        "and {}.",
                                        c.minRepeatLength, c.maxRepeatLength));
}

StorySample StoryCorpus::sample(CorpusSplit split, int64_t index) const {
    SplitMix64 rng(mix64(mix64(m_seed ^ splitSalt(split)) + static_cast<uint64_t>(index)));
    return StoryBuilder(rng, m_config).build();
}

std::vector<StorySample> StoryCorpus::samples(CorpusSplit split, int64_t first, int64_t count) const {
    std::vector<StorySample> out;
    out.reserve(static_cast<size_t>(std::max<int64_t>(count, 0)));
    for (int64_t i = 0; i < count; ++i)
        out.push_back(sample(split, first + i));
    return out;
}

int64_t maxSampleLength(const StoryConfig& c) {
    // A span split by a gap ends each copy with ".".
    const int64_t repeat = c.repeatShare > 0.0 ? 2 * c.maxRepeatLength + (c.maxRepeatGap > 0 ? 2 : 1) : 0;
    const int64_t question = c.answerForm == AnswerForm::Restate ? kMaxRestatedQuestionWords : kMaxQuestionWords;
    const int64_t unanswerable = c.unanswerableShare > 0.0 ? kMaxUnanswerableWords : 0;
    const int64_t filler = kMaxFillerWords + (c.echoShare > 0.0 ? kEchoWords : 0);
    return 2 + c.maxFacts * (kMaxFactWords + question) + c.maxFiller * filler + repeat + unanswerable;
}

PackedSequences packSamples(const std::vector<StorySample>& samples, int64_t seqLen) {
    if (seqLen < 1) throw ArgumentError(fmt::format("Packing needs a positive sequence length, not {}.", seqLen));
    // First fit over the most recent rows: in-order packing leaves about a quarter of each row as padding, and a
    // bounded window keeps packing linear in the number of samples.
    constexpr int64_t kOpenRows = 64;
    PackedSequences p;
    p.seqLen = seqLen;
    for (size_t s = 0; s < samples.size(); ++s) {
        const auto& ids = samples[s].ids;
        const auto n = static_cast<int64_t>(ids.size());
        if (n > seqLen)
            throw ArgumentError(
                fmt::format("Story sample {} has {} tokens, more than the packed sequence length {}.", s, n, seqLen));
        int64_t row = std::max<int64_t>(p.rows - kOpenRows, 0);
        while (row < p.rows && p.lengths[static_cast<size_t>(row)] + n > seqLen)
            ++row;
        if (row == p.rows) {
            p.ids.resize(p.ids.size() + static_cast<size_t>(seqLen), OrganismVocab::kPad);
            p.lengths.push_back(0);
            ++p.rows;
        }
        int64_t& used = p.lengths[static_cast<size_t>(row)];
        std::copy(ids.begin(), ids.end(), p.ids.begin() + row * seqLen + used);
        p.placements.push_back({static_cast<int64_t>(s), row, used});
        used += n;
    }
    return p;
}

} // namespace attnscope::core

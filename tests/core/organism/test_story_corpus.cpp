// The organism's story corpus: determinism, answer positions, repeated spans, packing, splits, tokenizer round trip.
#include "errors.hpp"
#include "model/tokenizer.hpp"
#include "organism/organism_vocab.hpp"
#include "organism/story_corpus.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

using namespace attnscope;
using core::AnswerForm;
using core::CorpusSplit;
using core::OrganismVocab;
using core::StoryConfig;
using core::StoryCorpus;
using core::StorySample;

namespace {

bool sameSample(const StorySample& a, const StorySample& b) {
    if (a.words != b.words || a.ids != b.ids || a.questions.size() != b.questions.size()) return false;
    for (size_t i = 0; i < a.questions.size(); ++i) {
        const auto &x = a.questions[i], &y = b.questions[i];
        if (x.kind != y.kind || x.factStart != y.factStart || x.factAnswerIndex != y.factAnswerIndex ||
            x.questionStart != y.questionStart || x.answerStart != y.answerStart || x.answerWords != y.answerWords)
            return false;
    }
    if (a.repeat.has_value() != b.repeat.has_value()) return false;
    return !a.repeat || (a.repeat->firstStart == b.repeat->firstStart &&
                         a.repeat->secondStart == b.repeat->secondStart && a.repeat->length == b.repeat->length);
}

} // namespace

TEST(OrganismVocab, SpecialsFirstAndWordsUnique) {
    const OrganismVocab& v = core::organismVocab();
    EXPECT_EQ(v.word(OrganismVocab::kBos), "<bos>");
    EXPECT_EQ(v.word(OrganismVocab::kEos), "<eos>");
    EXPECT_EQ(v.word(OrganismVocab::kUnk), "<unk>");
    EXPECT_EQ(v.word(OrganismVocab::kPad), "<pad>");
    const std::set<std::string> unique(v.words().begin(), v.words().end());
    EXPECT_EQ(static_cast<int64_t>(unique.size()), v.size());
    for (int32_t id = 0; id < v.size(); ++id) {
        EXPECT_EQ(v.id(v.word(id)), id);
        EXPECT_EQ(v.word(id).find_first_of(" \t\n"), std::string::npos) << v.word(id); // WhitespaceSplit must keep it
    }
    EXPECT_EQ(v.id("dragon"), -1);
}

TEST(StoryCorpus, SameSeedSameCorpusOtherSeedOther) {
    const auto a = StoryCorpus(42).samples(CorpusSplit::Train, 0, 50);
    const auto b = StoryCorpus(42).samples(CorpusSplit::Train, 0, 50);
    const auto c = StoryCorpus(43).samples(CorpusSplit::Train, 0, 50);
    int differing = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_TRUE(sameSample(a[i], b[i])) << "sample " << i;
        differing += a[i].words != c[i].words;
    }
    EXPECT_EQ(differing, 50);
    // Random access gives the same sample as a sequential draw.
    EXPECT_TRUE(sameSample(StoryCorpus(42).sample(CorpusSplit::Train, 17), a[17]));
}

TEST(StoryCorpus, SamplesAreWellFormed) {
    const StoryCorpus corpus(7);
    const OrganismVocab& v = core::organismVocab();
    int64_t longest = 0;
    for (const StorySample& s : corpus.samples(CorpusSplit::Train, 0, 500)) {
        ASSERT_GE(s.words.size(), 3u);
        ASSERT_EQ(s.words.size(), s.ids.size());
        EXPECT_EQ(s.ids.front(), OrganismVocab::kBos);
        EXPECT_EQ(s.ids.back(), OrganismVocab::kEos);
        for (size_t i = 0; i < s.words.size(); ++i) {
            EXPECT_EQ(s.ids[i], v.id(s.words[i]));
            EXPECT_NE(s.ids[i], OrganismVocab::kUnk);
            EXPECT_NE(s.ids[i], OrganismVocab::kPad);
        }
        EXPECT_GE(int64_t(s.questions.size()), corpus.config().minFacts);
        EXPECT_LE(int64_t(s.questions.size()), corpus.config().maxFacts);
        longest = std::max<int64_t>(longest, static_cast<int64_t>(s.ids.size()));
    }
    EXPECT_LE(longest, core::maxSampleLength(corpus.config()));
    EXPECT_LE(core::maxSampleLength(corpus.config()), 512); // the defaults fit the organism's context
}

// The retrieval-head check needs: the answer repeats the fact's words, and the fact is the only earlier place its
// first answer word appears (so "top-1 attention on the fact's answer token" is unambiguous).
TEST(StoryCorpus, AnswersPointAtTheirFacts) {
    for (const StorySample& s : StoryCorpus(11).samples(CorpusSplit::Train, 0, 500)) {
        for (const auto& q : s.questions) {
            const auto n = static_cast<int64_t>(q.answerWords.size());
            ASSERT_GE(n, 1);
            ASSERT_LE(q.answerStart + n, static_cast<int64_t>(s.words.size()));
            EXPECT_LT(q.factStart, q.factAnswerIndex);
            EXPECT_LT(q.factAnswerIndex, q.questionStart);
            EXPECT_LT(q.questionStart, q.answerStart);
            for (int64_t k = 0; k < n; ++k) {
                EXPECT_EQ(s.words[q.factAnswerIndex + k], q.answerWords[k]);
                EXPECT_EQ(s.words[q.answerStart + k], q.answerWords[k]);
            }
            EXPECT_EQ(s.words[q.answerStart + n], ".");
            const auto first = s.words.begin();
            EXPECT_EQ(std::count(first, first + q.answerStart, q.answerWords[0]), 1) << s.text();
        }
    }
}

// Restated answers repeat the fact's whole sentence after the question, so the words before the answer match the fact.
TEST(StoryCorpus, RestatedAnswersRepeatTheFactSentence) {
    StoryConfig c;
    c.answerForm = AnswerForm::Restate;
    c.maxFiller = 33;
    int64_t longest = 0;
    for (const StorySample& s : StoryCorpus(11, c).samples(CorpusSplit::Train, 0, 500)) {
        longest = std::max<int64_t>(longest, static_cast<int64_t>(s.words.size()));
        for (const auto& q : s.questions) {
            const int64_t before = q.factAnswerIndex - q.factStart;
            ASSERT_GE(q.answerStart - before, q.questionStart);
            for (int64_t k = -before; k <= static_cast<int64_t>(q.answerWords.size()); ++k)
                EXPECT_EQ(s.words[q.answerStart + k], s.words[q.factAnswerIndex + k]) << s.text();
            EXPECT_EQ(s.words[q.answerStart - before - 1], "?");
        }
    }
    EXPECT_LE(longest, core::maxSampleLength(c));
}

TEST(StoryCorpus, LongFillerPutsFactsBeyond200Tokens) {
    StoryConfig config;
    config.minFiller = config.maxFiller = 40;
    int64_t far = 0, total = 0, farthest = 0;
    for (const StorySample& s : StoryCorpus(3, config).samples(CorpusSplit::HeldOut, 0, 200))
        for (const auto& q : s.questions) {
            ++total;
            far += q.distance() >= 200;
            farthest = std::max(farthest, q.distance());
        }
    EXPECT_GT(farthest, 200);
    EXPECT_GT(far, total / 2); // 40 filler sentences average about 7 words each
    // The defaults (0-36 filler sentences) reach past 200 tokens too, for the held-out distance check.
    int64_t farDefault = 0;
    for (const StorySample& s : StoryCorpus(3).samples(CorpusSplit::HeldOut, 0, 200))
        for (const auto& q : s.questions)
            farDefault += q.distance() >= 200;
    EXPECT_GT(farDefault, 0);
}

TEST(StoryCorpus, RepeatedSpansAreExactCopies) {
    const StoryConfig config; // repeatShare 0.75
    int64_t withRepeat = 0;
    const int64_t n = 400;
    for (const StorySample& s : StoryCorpus(5, config).samples(CorpusSplit::Train, 0, n)) {
        if (!s.repeat) continue;
        ++withRepeat;
        const auto& r = *s.repeat;
        EXPECT_GE(r.length, config.minRepeatLength);
        EXPECT_LE(r.length, config.maxRepeatLength);
        EXPECT_EQ(r.secondStart, r.firstStart + r.length);
        ASSERT_LE(r.secondStart + r.length, static_cast<int64_t>(s.ids.size()));
        EXPECT_TRUE(
            std::equal(s.ids.begin() + r.firstStart, s.ids.begin() + r.secondStart, s.ids.begin() + r.secondStart));
        for (const auto& q : s.questions) // the span sits between the facts and the questions
            EXPECT_TRUE(q.factAnswerIndex < r.firstStart && r.secondStart + r.length < q.questionStart);
    }
    // Binomial(400, 0.75): standard deviation 8.7 samples; the band is about 4.6 of them.
    EXPECT_NEAR(static_cast<double>(withRepeat), 0.75 * n, 40.0);
    StoryConfig none, all;
    none.repeatShare = 0.0;
    all.repeatShare = 1.0;
    for (int64_t i = 0; i < 50; ++i) {
        EXPECT_FALSE(StoryCorpus(5, none).sample(CorpusSplit::Train, i).repeat.has_value());
        EXPECT_TRUE(StoryCorpus(5, all).sample(CorpusSplit::Train, i).repeat.has_value());
    }
}

TEST(StoryCorpus, PackingKeepsWholeSamplesAndStartsRowsWithBos) {
    const auto samples = StoryCorpus(9).samples(CorpusSplit::Train, 0, 200);
    const int64_t seqLen = 512;
    const core::PackedSequences p = core::packSamples(samples, seqLen);
    ASSERT_EQ(p.seqLen, seqLen);
    ASSERT_EQ(static_cast<int64_t>(p.ids.size()), p.rows * seqLen);
    ASSERT_EQ(static_cast<int64_t>(p.lengths.size()), p.rows);
    ASSERT_EQ(p.placements.size(), samples.size());
    int64_t tokens = 0;
    for (int64_t row = 0; row < p.rows; ++row) {
        EXPECT_EQ(p.ids[row * seqLen], OrganismVocab::kBos) << "row " << row;
        EXPECT_LE(p.lengths[row], seqLen);
        for (int64_t k = p.lengths[row]; k < seqLen; ++k)
            EXPECT_EQ(p.ids[row * seqLen + k], OrganismVocab::kPad);
        tokens += p.lengths[row];
    }
    int64_t sampleTokens = 0;
    for (size_t i = 0; i < samples.size(); ++i) {
        const auto& at = p.placements[i];
        EXPECT_EQ(at.sample, static_cast<int64_t>(i));
        const auto& ids = samples[i].ids;
        ASSERT_LE(at.offset + static_cast<int64_t>(ids.size()), p.lengths[at.row]);
        EXPECT_TRUE(std::equal(ids.begin(), ids.end(), p.ids.begin() + at.row * seqLen + at.offset));
        sampleTokens += static_cast<int64_t>(ids.size());
    }
    // Each row's samples tile [0, length) back to back, in sample order.
    std::vector<int64_t> end(static_cast<size_t>(p.rows), 0);
    for (const auto& at : p.placements) {
        EXPECT_EQ(at.offset, end[static_cast<size_t>(at.row)]) << "sample " << at.sample;
        end[static_cast<size_t>(at.row)] += static_cast<int64_t>(samples[static_cast<size_t>(at.sample)].ids.size());
    }
    for (int64_t row = 0; row < p.rows; ++row)
        EXPECT_EQ(end[static_cast<size_t>(row)], p.lengths[static_cast<size_t>(row)]);
    // First fit over recent rows fills them well; in-order packing would leave about 24% padding here.
    EXPECT_GT(static_cast<double>(tokens) / static_cast<double>(p.rows * seqLen), 0.9);
    EXPECT_EQ(tokens, sampleTokens);
    EXPECT_THROW(core::packSamples(samples, 16), core::ArgumentError);
}

TEST(StoryCorpus, HeldOutSplitIsDisjointFromTraining) {
    const StoryCorpus corpus(42);
    std::set<std::string> train;
    for (const StorySample& s : corpus.samples(CorpusSplit::Train, 0, 2000))
        train.insert(s.text());
    EXPECT_EQ(train.size(), 2000u); // no duplicate stories within the split either
    for (const StorySample& s : corpus.samples(CorpusSplit::HeldOut, 0, 300))
        EXPECT_FALSE(train.contains(s.text())) << s.text();
}

TEST(StoryCorpus, BadConfigIsAnArgumentError) {
    StoryConfig c;
    c.minFacts = 0;
    EXPECT_THROW(StoryCorpus(1, c), core::ArgumentError);
    c = {};
    c.maxFiller = -1;
    EXPECT_THROW(StoryCorpus(1, c), core::ArgumentError);
    c = {};
    c.repeatShare = 1.5;
    EXPECT_THROW(StoryCorpus(1, c), core::ArgumentError);
}

TEST(StoryCorpus, TokenizerJsonEncodesStoriesToGeneratorIds) {
    const OrganismVocab& v = core::organismVocab();
    const auto dir = test::scratchDir("organism-tokenizer");
    v.writeHfTokenizer(dir);
    const auto tok = core::loadHfTokenizer(dir);
    EXPECT_EQ(tok->kind(), "word-level");
    EXPECT_EQ(tok->vocabSize(), v.size());
    EXPECT_EQ(tok->bosId(), OrganismVocab::kBos);
    EXPECT_EQ(tok->eosId(), OrganismVocab::kEos);
    for (const StorySample& s : StoryCorpus(21).samples(CorpusSplit::HeldOut, 0, 100)) {
        const core::Encoding e = tok->encode(s.text()); // <bos> comes from the post-processor
        ASSERT_EQ(e.ids, s.ids) << s.text();
        EXPECT_EQ(tok->encode(s.text(), false).ids, std::vector<int32_t>(s.ids.begin() + 1, s.ids.end()));
    }
    EXPECT_EQ(tok->encode("Mia saw a dragon .").ids,
              (std::vector<int32_t>{OrganismVocab::kBos, v.id("Mia"), OrganismVocab::kUnk, v.id("a"),
                                    OrganismVocab::kUnk, v.id(".")}));
}

// An unanswerable question asks about a name that is in no fact of its story and is answered "Nobody knows ."; the
// answerable questions keep their positions.
TEST(StoryCorpus, UnanswerableQuestionsAskAboutNobodyInTheFacts) {
    StoryConfig config;
    config.maxFiller = 33; // the extra question needs room within 512 tokens
    config.unanswerableShare = 1.0;
    const StoryCorpus corpus(5, config);
    const auto& names = core::storyWords().names;
    for (const StorySample& s : corpus.samples(CorpusSplit::Train, 0, 200)) {
        ASSERT_TRUE(s.unanswerableStart.has_value());
        EXPECT_LE(static_cast<int64_t>(s.words.size()), core::maxSampleLength(config));
        const int64_t at = *s.unanswerableStart;
        const auto question = std::find(s.words.begin() + at, s.words.end(), "?");
        ASSERT_NE(question, s.words.end());
        EXPECT_EQ(*(question + 1), "Nobody");
        EXPECT_EQ(*(question + 2), "knows");
        EXPECT_EQ(*(question + 3), ".");
        const auto name = std::find_first_of(s.words.begin() + at, question, names.begin(), names.end());
        ASSERT_NE(name, question) << s.text();
        for (const auto& q : s.questions) {
            const auto& factName = s.words[static_cast<size_t>(q.factStart)];
            EXPECT_NE(*name, factName) << s.text();
            for (size_t k = 0; k < q.answerWords.size(); ++k)
                EXPECT_EQ(s.words[q.answerStart + k], q.answerWords[k]);
        }
    }
    config.unanswerableShare = 0.0;
    for (const StorySample& s : StoryCorpus(5, config).samples(CorpusSplit::Train, 0, 50))
        EXPECT_FALSE(s.unanswerableStart.has_value());
}

// A mention repeats a hidden object's colour and container inside a filler sentence, only in stories that hide
// something; facts and questions keep their positions, and the bound on the length holds.
TEST(StoryCorpus, MentionsRepeatAHiddenObjectsColourAndContainer) {
    StoryConfig config;
    config.mentionShare = 0.5;
    int64_t mentioned = 0, storiesWithHide = 0;
    for (const StorySample& s : StoryCorpus(8, config).samples(CorpusSplit::Train, 0, 200)) {
        EXPECT_LE(static_cast<int64_t>(s.words.size()), core::maxSampleLength(config));
        std::vector<std::pair<std::string, std::string>> hidden; // (colour, container) of each hide fact
        for (const auto& q : s.questions)
            if (q.kind == core::QuestionKind::Hide) hidden.emplace_back(q.answerWords[0], q.answerWords[1]);
        storiesWithHide += !hidden.empty();
        if (hidden.empty()) EXPECT_TRUE(s.mentions.empty()) << s.text();
        for (const int64_t at : s.mentions) {
            const auto i = static_cast<size_t>(at);
            ASSERT_TRUE(i >= 6 && i + 1 < s.words.size());
            EXPECT_EQ(s.words[i - 6], "The");
            EXPECT_EQ(s.words[i - 3], "in");
            EXPECT_EQ(s.words[i - 2], "the");
            EXPECT_EQ(s.words[i + 1], ".");
            const std::pair<std::string, std::string> pair{s.words[i - 1], s.words[i]};
            EXPECT_NE(std::find(hidden.begin(), hidden.end(), pair), hidden.end()) << s.text();
            // Between the facts and the questions.
            for (const auto& q : s.questions) {
                EXPECT_GT(at, q.factAnswerIndex + 1);
                EXPECT_LT(at, q.questionStart);
            }
        }
        for (const auto& q : s.questions)
            for (size_t k = 0; k < q.answerWords.size(); ++k)
                EXPECT_EQ(s.words[q.answerStart + k], q.answerWords[k]);
        mentioned += static_cast<int64_t>(s.mentions.size());
    }
    EXPECT_GT(storiesWithHide, 100);       // 3-5 facts, each a hide fact with chance 1/4
    EXPECT_GT(mentioned, storiesWithHide); // about 17 filler sentences a story, half of them mentions
    // Off, no story has one (test_organism_known_answers pins the held-out stories, which must stay as they were).
    config.mentionShare = 0.0;
    for (const StorySample& s : StoryCorpus(8, config).samples(CorpusSplit::Train, 0, 20))
        EXPECT_TRUE(s.mentions.empty());
    config.mentionShare = -0.1;
    EXPECT_THROW(StoryCorpus(8, config), core::ArgumentError);
}

// An echo word stands inside a filler sentence between a word and the same word again; with the share at 1 every
// filler sentence has exactly one, facts and questions keep their positions, and the bound on the length holds.
TEST(StoryCorpus, EchoWordsSitBetweenAWordAndItsCopy) {
    StoryConfig config;
    config.maxFiller = 28; // each filler sentence grows by two words
    config.echoShare = 1.0;
    const auto& echoes = core::storyWords().echoes;
    int64_t echoed = 0;
    for (const StorySample& s : StoryCorpus(7, config).samples(CorpusSplit::Train, 0, 200)) {
        EXPECT_LE(static_cast<int64_t>(s.words.size()), core::maxSampleLength(config));
        for (const int64_t at : s.echoes) {
            const auto i = static_cast<size_t>(at);
            ASSERT_TRUE(i >= 1 && i + 1 < s.words.size());
            EXPECT_NE(std::find(echoes.begin(), echoes.end(), s.words[i]), echoes.end()) << s.text();
            EXPECT_EQ(s.words[i - 1], s.words[i + 1]) << s.text();
            EXPECT_NE(s.words[i - 1], ".") << s.text();
        }
        const auto inText = std::count_if(s.words.begin(), s.words.end(), [&](const std::string& w) {
            return std::find(echoes.begin(), echoes.end(), w) != echoes.end();
        });
        EXPECT_EQ(inText, static_cast<int64_t>(s.echoes.size())) << s.text();
        for (const auto& q : s.questions)
            for (size_t k = 0; k < q.answerWords.size(); ++k)
                EXPECT_EQ(s.words[q.answerStart + k], q.answerWords[k]);
        echoed += static_cast<int64_t>(s.echoes.size());
    }
    EXPECT_GT(echoed, 200 * 5); // about 14 filler sentences a story, each with one echo
    // Off, no story has one (test_organism_known_answers pins the held-out stories the committed organism is measured
    // on, which the option must leave as they were).
    config.echoShare = 0.0;
    for (const StorySample& s : StoryCorpus(7, config).samples(CorpusSplit::Train, 0, 20))
        EXPECT_TRUE(s.echoes.empty());
    config.echoShare = 1.5;
    EXPECT_THROW(StoryCorpus(7, config), core::ArgumentError);
}

// With a gap, filler sentences stand between the two copies of a repeated span, each copy ends with ".", and the
// second copy is the first word for word.
TEST(StoryCorpus, RepeatGapPutsFillerBetweenTheCopies) {
    StoryConfig config;
    config.minFiller = 20;
    config.minRepeatGap = 4, config.maxRepeatGap = 12;
    config.repeatShare = 1.0;
    int64_t farApart = 0;
    for (const StorySample& s : StoryCorpus(9, config).samples(CorpusSplit::Train, 0, 200)) {
        EXPECT_LE(static_cast<int64_t>(s.words.size()), core::maxSampleLength(config));
        ASSERT_TRUE(s.repeat.has_value());
        const core::RepeatedSpan& r = *s.repeat;
        const auto at = [&](int64_t i) { return s.words[static_cast<size_t>(i)]; };
        for (int64_t i = 0; i < r.length; ++i)
            ASSERT_EQ(at(r.firstStart + i), at(r.secondStart + i)) << s.text();
        EXPECT_EQ(at(r.firstStart + r.length), ".");
        EXPECT_EQ(at(r.secondStart + r.length), ".");
        // Between the copies: whole filler sentences (at least one unless the story ran out of filler first).
        const int64_t between = r.secondStart - (r.firstStart + r.length + 1);
        EXPECT_GE(between, 0);
        if (between > 0) EXPECT_EQ(at(r.secondStart - 1), ".") << s.text();
        farApart += r.secondStart - r.firstStart >= 50;
        for (const auto& q : s.questions)
            for (size_t k = 0; k < q.answerWords.size(); ++k)
                EXPECT_EQ(at(q.answerStart + int64_t(k)), q.answerWords[k]);
    }
    EXPECT_GT(farApart, 100); // 4-12 sentences of 5-10 words: most copies lie 50+ tokens apart
    // A gap share of one half keeps about half of the spans' copies adjacent.
    config.repeatGapShare = 0.5;
    int64_t adjacent = 0;
    for (const StorySample& s : StoryCorpus(9, config).samples(CorpusSplit::Train, 0, 200))
        adjacent += s.repeat->secondStart == s.repeat->firstStart + s.repeat->length;
    EXPECT_GT(adjacent, 70);
    EXPECT_LT(adjacent, 130);
    config.minRepeatGap = 3, config.maxRepeatGap = 2;
    EXPECT_THROW(StoryCorpus(9, config), core::ArgumentError);
}

// Counterfactual resampling (methods.md §4.2-4.3) with the real runtime on the organism and the bundled story
// (resources/prompts/anchors_story.txt): prefixes, answers, hidden-state similarity, determinism for a seed, and the
// known answer: without the sentence holding the fact, the forced answer loses the fact's colour; without a filler
// sentence it keeps it.
#include "analysis/sentence_spans.hpp"
#include "errors.hpp"
#include "jobs/resampling_embedding.hpp"
#include "jobs/resampling_job.hpp"
#include "runtime/transformer.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

using namespace attnscope;
using namespace attnscope::core;

namespace {

constexpr int64_t kFact = 1; // "Mia hid the key in the blue box ."
// The filler sentences between the facts and the question ("The dog ran by the river ." ... "The boat rested ...").
constexpr int64_t kFillerFirst = 3, kFillerLast = 8;

Transformer& organism() {
    static std::unique_ptr<Transformer> model = [] {
        RuntimeOptions o;
        o.threads = 2;
        return Transformer::load(test::resourcesDir() / "models/organism", o);
    }();
    return *model;
}

std::string story() {
    std::ifstream in(test::resourcesDir() / "prompts/anchors_story.txt");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// The answer is the hidden object's colour, the first word the organism copies from the fact.
ResamplingOptions storyOptions() {
    ResamplingOptions o;
    o.rollouts = 8;
    o.maxNewTokens = 6; // enough for "blue box ." after the forced prefix
    o.answerRegex = R"(In the (\w+) \w+ \.)";
    o.forceAnswer = " Where did Mia hide the key ? In the";
    o.seed = 1;
    return o;
}

ResamplingReport runStory(const ResamplingOptions& o) {
    const AnswerExtractor answers(o.answerRegex);
    return runResampling(organism(), resamplingTrace(story(), answers, o.expectedAnswer), o);
}

} // namespace

TEST(ResamplingOrganism, PrefixesDropTheChunkLikeTheReference) {
    const std::vector<std::string> chunks{"A b c .", "D e .", "A b c .", "F g ."};
    EXPECT_EQ(prefixWithoutChunk(chunks, 0), "");
    EXPECT_EQ(prefixWithoutChunk(chunks, 1), "A b c .");
    // str.replace removes every occurrence, the earlier repeat included.
    EXPECT_EQ(prefixWithoutChunk(chunks, 2), "D e .");
    EXPECT_EQ(prefixWithoutChunk(chunks, 3), "A b c . D e . A b c .");
}

TEST(ResamplingOrganism, TraceSplitsPromptChunksAndAnswer) {
    const AnswerExtractor boxed(kBoxedAnswerPattern);
    const ResamplingTrace t = resamplingTrace(
        "Solve it. <think>\nFirst, two plus two. So it is four.\n</think>\nThe answer is \\boxed{\\frac{8}{2}}.", boxed,
        "");
    EXPECT_EQ(t.prompt, "Solve it. <think>\n");
    EXPECT_EQ(t.chunks, (std::vector<std::string>{"First, two plus two.", "So it is four."}));
    EXPECT_EQ(t.expectedAnswer, "\\frac{8}{2}"); // nested braces inside \boxed{}
    EXPECT_EQ(resamplingTrace("a <think>\nb.\n</think>\n", boxed, "").expectedAnswer, ""); // nothing to go by
    EXPECT_EQ(resamplingTrace("a <think>\nb.\n</think>\n", boxed, "7").expectedAnswer, "7");
    const AnswerExtractor colour(storyOptions().answerRegex);
    const ResamplingTrace s = resamplingTrace(story(), colour, "");
    EXPECT_EQ(s.prompt, "");
    EXPECT_EQ(s.chunks.size(), 11u);
    EXPECT_EQ(s.expectedAnswer, "blue"); // the story states its own answer
}

TEST(ResamplingOrganism, AnswerPatternsAndTheirErrors) {
    EXPECT_EQ(AnswerExtractor("x = (\\d+)").extract("so x = 42 and x = 7"), "42"); // the first match
    EXPECT_EQ(AnswerExtractor("\\d+").extract("it is 12 ."), "12");                // no group: the whole match
    EXPECT_EQ(AnswerExtractor("(a)|(?<answer>b)").extract("b"), "b");              // the named group wins
    EXPECT_EQ(AnswerExtractor("(a)|(?<answer>b)").extract("a"), "");               // ... even when it took no part
    EXPECT_EQ(AnswerExtractor(kBoxedAnswerPattern).extract("no box"), "");
    EXPECT_THROW(AnswerExtractor("(unclosed"), ArgumentError);
    EXPECT_THROW(AnswerExtractor("x*"), ArgumentError); // matches the empty text
}

TEST(ResamplingOrganism, HiddenStateSimilarity) {
    SentenceEmbedder e(organism());
    const auto& fact = e.embed("Mia hid the key in the blue box .");
    ASSERT_EQ(fact.size(), size_t(organism().config().dModel));
    // Float32 sums of 128 products: 1 up to rounding.
    EXPECT_NEAR(SentenceEmbedder::cosine(fact, e.embed("Mia hid the key in the blue box .")), 1.0, 1e-6);
    const double paraphrase = SentenceEmbedder::cosine(fact, e.embed("Mia hid the key in the red box ."));
    const double other = SentenceEmbedder::cosine(fact, e.embed("The wind sang over the hill ."));
    EXPECT_GT(paraphrase, other) << "one colour changed should stay closer than a filler sentence";
    EXPECT_EQ(e.forwards(), 3); // the repeated sentence came from the cache
    EXPECT_TRUE(e.embed("").empty());
    EXPECT_TRUE(std::isnan(SentenceEmbedder::cosine(fact, {})));
}

TEST(ResamplingOrganism, RemovingTheFactLosesTheAnswerAndFillersDoNot) {
    const ResamplingReport r = runStory(storyOptions());
    ASSERT_EQ(r.importance.size(), 11u);
    EXPECT_EQ(r.trace.expectedAnswer, "blue");
    for (const ChunkRollouts& c : r.chunks) {
        EXPECT_EQ(c.rollouts.size(), 8u);
        EXPECT_EQ(c.forced.size(), 8u);
    }
    const ChunkImportance& fact = r.importance[kFact];
    double fillerMin = 1.0, fillerImportance = 0.0;
    for (int64_t i = kFillerFirst; i <= kFillerLast; ++i) {
        fillerMin = std::min(fillerMin, r.importance[size_t(i)].forcedAnswerAccuracy);
        fillerImportance = std::max(fillerImportance, std::abs(r.importance[size_t(i)].forcedAccuracy));
    }
    // Measured: the colour is "blue" in every forced rollout whose prefix holds the fact and never otherwise
    // (docs/methods.md 8.4); the margins leave room for a different sampling stream.
    EXPECT_LE(fact.forcedAnswerAccuracy, 0.25);
    EXPECT_GE(fillerMin, 0.75);
    EXPECT_GE(fact.forcedAccuracy, 0.5); // accuracy with the fact kept (chunk 2's rollouts) minus without it
    EXPECT_LE(fillerImportance, 0.25);
    EXPECT_GT(fact.forcedKl, 5.0); // answers never given with the fact: ~p ln(p / (alpha / N))
    // The free rollouts rarely reach the question within 6 tokens; when they resample the sentence they often
    // write another one (a filler or a new fact): measured 6 of the 8, so the metric sees the difference.
    EXPECT_GE(fact.differentTrajectoriesFraction, 0.25);
}

TEST(ResamplingOrganism, DeterministicForASeed) {
    ResamplingOptions o = storyOptions();
    o.rollouts = 3;
    const ResamplingReport a = runStory(o), b = runStory(o);
    o.seed = 2;
    const ResamplingReport c = runStory(o);
    bool differs = false;
    for (size_t i = 0; i < a.chunks.size(); ++i)
        for (size_t k = 0; k < 3; ++k) {
            const AnswerRollout &x = a.chunks[i].rollouts[k], &y = b.chunks[i].rollouts[k];
            EXPECT_EQ(x.resampled, y.resampled);
            EXPECT_EQ(x.answer, y.answer);
            EXPECT_EQ(a.chunks[i].forced[k].answer, b.chunks[i].forced[k].answer);
            if (!std::isnan(x.similarity)) EXPECT_DOUBLE_EQ(x.similarity, y.similarity);
            differs |= x.resampled != c.chunks[i].rollouts[k].resampled;
        }
    EXPECT_TRUE(differs) << "another seed should sample other sentences";
    EXPECT_THROW(runStory([] {
                     auto o = storyOptions();
                     o.topP = 0;
                     return o;
                 }()),
                 ArgumentError);
}

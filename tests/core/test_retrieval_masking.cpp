// Wu et al.'s retrieval-head masking (methods.md §3.2) on the committed organism (resources/models/organism): the
// heads ranked by the retrieval score of an unmasked haystack run, the top two masked (q = 0) against two random heads
// drawn outside every head that scored; far-question accuracy and haystack success under each mask.
#include "analysis/experiments/retrieval_masking.hpp"
#include "errors.hpp"
#include "organism/organism_haystack.hpp"
#include "runtime/transformer.hpp"
#include "support/organism_model.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

using namespace attnscope;
using test::onWorker;
using test::organism;

namespace {

std::vector<core::NeedleCase> bundledNeedles() {
    return core::parseNeedles(core::organismNeedlesJsonl(), "organism_needles.jsonl");
}

// K = 2, 3 random draws, the bundled needles on 3 lengths x 3 depths (27 tests: enough to rank L3H2 and L2H2, the
// two heads the full 600-test grid ranks first) and eval-organism's 200 far questions (seed 1). Fewer
// questions would not do: the top-2 bound below holds by 81 questions of 200. ~15 s on 2 cores shared with a build.
const core::RetrievalMaskingResult& measured() {
    static const core::RetrievalMaskingResult r = [] {
        core::RetrievalMaskingParams p;
        p.k = 2;
        p.randomSeeds = 3;
        p.retrieval.lengths = {200, 350, 500};
        p.retrieval.depths = {0, 50, 100};
        p.organism = core::OrganismEvalOptions{};
        core::Transformer& model = organism();
        const auto needles = bundledNeedles();
        return onWorker([&] { return core::runRetrievalMasking(model, core::organismHaystack(), needles, p); });
    }();
    return r;
}

bool contains(const std::vector<core::HeadRef>& heads, const core::HeadRef& h) {
    return std::find(heads.begin(), heads.end(), h) != heads.end();
}

} // namespace

// One test for the whole measurement: ctest runs every test in its own process, and the measurement is the cost.
//
// Top heads: taken from the ranking, which names what eval-organism and `retrieval` name on the committed organism
// (README): L3H2 first (0.708 on this grid), then L2H2 (0.375). Random pairs: never an excluded head.
//
// Organism (the proof). Deterministic (fixed questions, fixed draws): measured 94.5 % unmasked, 4.0 % with
// L3H2+L2H2 masked (a drop of 90.5 points), random pairs 0.0, +0.5 and 0.0, mean +0.2. The bound is on the mean over
// draws, as the paper reports random masking; one pair can cost more on its own (docs/methods.md §3.2 has the full
// 600-test ranking's draws).
//
// Haystack, masked only while decoding as the reference: the top-2 leave no test passing (24 of 27 pass unmasked);
// no random pair loses a passing test (measured: 24, 24 and 24 of 27).
TEST(RetrievalMasking, MaskingTheRetrievalHeadsBreaksRetrievalAndRandomHeadsDoNot) {
    const core::RetrievalMaskingResult& r = measured();
    ASSERT_GE(r.ranking.size(), 2u);
    ASSERT_EQ(r.top.heads.size(), 2u);
    for (size_t i = 0; i < 2; ++i)
        EXPECT_EQ(r.top.heads[i], (core::HeadRef{r.ranking[i].layer, r.ranking[i].head, false}));
    EXPECT_EQ(core::formatHeadList(r.top.heads), "3.2,2.2");
    ASSERT_EQ(r.random.size(), 3u);
    for (const core::MaskingCondition& c : r.random) {
        ASSERT_EQ(c.heads.size(), 2u);
        for (const core::HeadRef& h : c.heads)
            EXPECT_FALSE(contains(r.excluded, h)) << core::formatHeadRef(h);
    }

    EXPECT_EQ(r.baseline.questions, 200);
    EXPECT_GE(r.baseline.answerAccuracy, 0.5);
    const double topDrop = 100 * (r.baseline.answerAccuracy - r.top.answerAccuracy);
    const double randomDrop = 100 * (r.baseline.answerAccuracy - r.randomAccuracy.mean);
    EXPECT_GE(topDrop, 50.0) << "top-2 accuracy " << r.top.answerAccuracy;
    EXPECT_LE(randomDrop, 10.0) << "random mean accuracy " << r.randomAccuracy.mean;
    for (const core::MaskingCondition& c : r.random)
        EXPECT_GT(c.answerAccuracy, r.top.answerAccuracy + 0.3) << core::formatHeadList(c.heads);

    EXPECT_EQ(r.baseline.tests, 27);
    EXPECT_GT(r.baseline.kept, 0);
    EXPECT_EQ(r.top.kept, 0);
    for (const core::MaskingCondition& c : r.random)
        EXPECT_GE(c.kept, r.baseline.kept) << core::formatHeadList(c.heads);
}

TEST(RetrievalMasking, RandomDrawsAreSeededAndDistinct) {
    std::vector<core::HeadRef> pool;
    for (int64_t h = 0; h < 8; ++h)
        pool.push_back({1, h, false});
    const auto a = core::drawRandomHeads(pool, 3, 7), b = core::drawRandomHeads(pool, 3, 7);
    EXPECT_EQ(a, b);
    ASSERT_EQ(a.size(), 3u);
    EXPECT_TRUE(a[0].head < a[1].head && a[1].head < a[2].head);
    EXPECT_THROW(core::drawRandomHeads(pool, 9, 1), core::ArgumentError);
}

TEST(RetrievalMasking, RejectsBadParameters) {
    core::RetrievalMaskingParams p;
    p.k = 0;
    core::Transformer& model = organism();
    const auto needles = bundledNeedles();
    EXPECT_THROW(core::runRetrievalMasking(model, core::organismHaystack(), needles, p), core::ArgumentError);
    p.k = 2;
    p.randomSeeds = 0;
    EXPECT_THROW(core::runRetrievalMasking(model, core::organismHaystack(), needles, p), core::ArgumentError);
}

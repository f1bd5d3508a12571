// Black-box sentence importance (methods.md §4.3) on hand-built rollout sets whose answers are worked out by hand
// below each test: accuracies, resampling / counterfactual / forced importance in both KL modes, "next" chunks,
// different-trajectory fractions, overdeterminedness and answer normalisation.
#include "analysis/resampling_importance.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace attnscope::core;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kAlpha = 1e-9;
// The hand formulas below are evaluated in the same double arithmetic, in another order: a few ulps apart.
constexpr double kTol = 1e-12;

AnswerRollout rollout(std::string answer, std::optional<bool> correct, double similarity = kNaN,
                      std::string resampled = "s") {
    return AnswerRollout{std::move(resampled), std::move(answer), correct, similarity};
}

// Chunk 0: one correct "blue box" (similar to the removed sentence), three wrong "red box" (two dissimilar, one not
// embedded). Chunk 1: three correct "Blue box." and one rollout without an answer.
std::vector<ChunkRollouts> twoChunks() {
    ChunkRollouts c0{0,
                     {rollout("blue box", true, 0.9, "A"), rollout("red box", false, 0.1, "B"),
                      rollout("red box", false, 0.5, "B"), rollout("red box", false, kNaN, "C")}};
    ChunkRollouts c1{1,
                     {rollout("Blue box.", true, 0.95), rollout("blue box", true, 0.95),
                      rollout(" blue  box", true, 0.95), rollout("", std::nullopt, 0.95)}};
    return {c0, c1};
}

double term(double p, double q) {
    return p * std::log(p / q);
}

} // namespace

TEST(ResamplingImportance, NormalisesAnswersLikeTheReference) {
    EXPECT_EQ(normalizeAnswer("  \\text{Blue Box}. "), "bluebox");
    EXPECT_EQ(normalizeAnswer("$\\frac{1}{2}$"), "\\frac{1}{2}");
    EXPECT_EQ(normalizeAnswer("\\left( 3, 4 \\right)"), "(3,4)");
    EXPECT_EQ(normalizeAnswer("\\displaystyle 10\\!000"), "10000");
    EXPECT_EQ(normalizeAnswer(""), "");
}

TEST(ResamplingImportance, AccuracyCountsOnlyScoredAnswers) {
    const auto chunks = twoChunks();
    const auto m = resamplingImportance(chunks);
    ASSERT_EQ(m.size(), 2u);
    EXPECT_EQ(m[0].rollouts, 4);
    EXPECT_EQ(m[0].scored, 4);
    EXPECT_DOUBLE_EQ(m[0].accuracy, 0.25); // 1 of 4
    EXPECT_EQ(m[1].answered, 3);
    EXPECT_DOUBLE_EQ(m[1].accuracy, 1.0); // 3 of 3: the unanswered rollout is not counted
    EXPECT_DOUBLE_EQ(m[0].resamplingAccuracy, 0.75);
    EXPECT_DOUBLE_EQ(m[1].resamplingAccuracy, 0.0); // no next chunk: the reference stores 0
    EXPECT_DOUBLE_EQ(m[1].resamplingKl, 0.0);
}

TEST(ResamplingImportance, ResamplingKlOverAnswerDistributions) {
    const auto m = resamplingImportance(twoChunks());
    // P0 over {bluebox, redbox} = (1, 3)/4, P1 = (3, 0)/3; V = 2, alpha = 1e-9.
    const double p1 = (1 + kAlpha) / (4 + 2 * kAlpha), p2 = (3 + kAlpha) / (4 + 2 * kAlpha);
    const double q1 = (3 + kAlpha) / (3 + 2 * kAlpha), q2 = kAlpha / (3 + 2 * kAlpha);
    EXPECT_NEAR(m[0].resamplingKl, term(p1, q1) + term(p2, q2), kTol);
    EXPECT_GT(m[0].resamplingKl, 15.0); // a wrong answer the kept sentence never gives costs ~0.75 ln(0.75/q2)
}

TEST(ResamplingImportance, BinaryKlComparesCorrectnessRates) {
    ImportanceOptions o;
    o.klMode = KlMode::Binary;
    const auto m = resamplingImportance(twoChunks(), o);
    const double p = (1 + kAlpha) / (4 + 2 * kAlpha), q = (3 + kAlpha) / (3 + 2 * kAlpha);
    EXPECT_NEAR(m[0].resamplingKl, term(p, q) + term(1 - p, 1 - q), kTol);
}

TEST(ResamplingImportance, CounterfactualUsesDissimilarRollouts) {
    const auto m = resamplingImportance(twoChunks());
    // D0 = the rollouts with similarity 0.1 and 0.5 (both wrong); the unembedded one is in neither set.
    EXPECT_DOUBLE_EQ(m[0].differentTrajectoriesFraction, 0.5); // 2 of 4 rollouts
    EXPECT_DOUBLE_EQ(m[0].counterfactualAccuracy, 0.0 - 1.0);  // acc(D0) - acc(chunk 1)
    // Resampled strings of the embedded rollouts: A, B, B -> 1 - 2/3.
    EXPECT_NEAR(m[0].overdeterminedness, 1.0 / 3.0, kTol);
    // KL(D0 ‖ chunk 1 ∪ S0): D0 = {red, red}; chunk 1 answers {blue x3} plus the similar {blue} = {blue x4}.
    const double p1 = (2 + kAlpha) / (2 + 2 * kAlpha), p2 = kAlpha / (2 + 2 * kAlpha);
    const double q1 = kAlpha / (4 + 2 * kAlpha), q2 = (4 + kAlpha) / (4 + 2 * kAlpha);
    EXPECT_NEAR(m[0].counterfactualKl, term(p1, q1) + term(p2, q2), kTol);

    ImportanceOptions without;
    without.useSimilarChunks = false; // chunk 1 alone: {blue x3}
    const double r1 = kAlpha / (3 + 2 * kAlpha), r2 = (3 + kAlpha) / (3 + 2 * kAlpha);
    EXPECT_NEAR(resamplingImportance(twoChunks(), without)[0].counterfactualKl, term(p1, r1) + term(p2, r2), kTol);

    // Chunk 1 has no next chunk, so nothing counterfactual either; all its rollouts are similar.
    EXPECT_DOUBLE_EQ(m[1].counterfactualKl, 0.0);
    EXPECT_DOUBLE_EQ(m[1].differentTrajectoriesFraction, 0.0);
    EXPECT_DOUBLE_EQ(m[1].overdeterminedness, 0.75); // four "s" strings: 1 - 1/4
}

TEST(ResamplingImportance, ThresholdIsStrict) {
    ImportanceOptions o;
    o.similarityThreshold = 0.5; // the rollout at exactly 0.5 is now similar (cos < threshold is "different")
    const auto m = resamplingImportance(twoChunks(), o);
    EXPECT_DOUBLE_EQ(m[0].differentTrajectoriesFraction, 0.25);
}

TEST(ResamplingImportance, NextIsTheSmallestPresentIndex) {
    // Chunks 3, 0, 7 (given out of order); chunk 7 has rollouts but no answer, so no accuracy.
    std::vector<ChunkRollouts> chunks{
        {3, {rollout("x", true), rollout("y", false)}},
        {0, {rollout("x", false), rollout("x", false)}},
        {7, {rollout("", std::nullopt), rollout("", std::nullopt)}},
    };
    const auto m = resamplingImportance(chunks);
    ASSERT_EQ(m.size(), 3u);
    EXPECT_EQ(m[0].index, 3);                             // results follow the order given
    EXPECT_DOUBLE_EQ(m[1].resamplingAccuracy, 0.5 - 0.0); // chunk 0's next is 3
    EXPECT_DOUBLE_EQ(m[0].resamplingAccuracy, 0.0);       // chunk 7 has no accuracy: nothing after 3
    EXPECT_DOUBLE_EQ(m[0].resamplingKl, 0.0);             // chunk 7 has rollouts but no answers
    EXPECT_TRUE(std::isnan(m[2].accuracy));
    // P0 = {x: 2}, P3 = {x: 1, y: 1}: KL = p(x) ln(p(x)/q(x)) + p(y) ln(p(y)/q(y)).
    const double px = (2 + kAlpha) / (2 + 2 * kAlpha), py = kAlpha / (2 + 2 * kAlpha);
    const double q = (1 + kAlpha) / (2 + 2 * kAlpha);
    EXPECT_NEAR(m[1].resamplingKl, term(px, q) + term(py, q), kTol);
    EXPECT_THROW(resamplingImportance(std::vector<ChunkRollouts>{{1, {}}, {1, {}}}), std::exception);
}

TEST(ResamplingImportance, ForcedAnswersWhenPresent) {
    auto chunks = twoChunks();
    chunks[0].forced = {rollout("5", true), rollout("5", true), rollout("6", false), rollout("6", false)};
    chunks[1].forced = {rollout("5", true), rollout("5", true), rollout("5", true), rollout("5", true)};
    const auto m = resamplingImportance(chunks);
    EXPECT_DOUBLE_EQ(m[0].forcedAnswerAccuracy, 0.5);
    EXPECT_DOUBLE_EQ(m[0].forcedAccuracy, 1.0 - 0.5);
    const double p5 = (2 + kAlpha) / (4 + 2 * kAlpha), q5 = (4 + kAlpha) / (4 + 2 * kAlpha),
                 q6 = kAlpha / (4 + 2 * kAlpha);
    EXPECT_NEAR(m[0].forcedKl, term(p5, q5) + term(p5, q6), kTol);
    EXPECT_DOUBLE_EQ(resamplingImportance(twoChunks())[0].forcedKl, 0.0); // no forced rollouts: 0
    EXPECT_TRUE(std::isnan(resamplingImportance(twoChunks())[0].forcedAnswerAccuracy));
}

TEST(ResamplingImportance, IdenticalDistributionsGiveZero) {
    std::vector<ChunkRollouts> chunks{{0, {rollout("a", true), rollout("b", false)}},
                                      {1, {rollout("b", false), rollout("A", true)}}};
    const auto m = resamplingImportance(chunks);
    EXPECT_DOUBLE_EQ(m[0].resamplingKl, 0.0);
    EXPECT_DOUBLE_EQ(m[0].resamplingAccuracy, 0.0);
}

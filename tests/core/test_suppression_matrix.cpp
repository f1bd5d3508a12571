// Thought Anchors' suppression matrix (methods.md §4.6): the reference's sparse KL on hand-built rows, a suppression
// that nothing attends to changes nothing on the organism, and what the matrix holds.
#include "analysis/sentence_spans.hpp"
#include "errors.hpp"
#include "intervene/suppression_matrix.hpp"
#include "jobs/progress.hpp"
#include "model/tokenizer.hpp"
#include "support/organism_model.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>

#include <cmath>

using namespace attnscope;

namespace {

const double kZeroLog = std::log(1e-9); // ln(0 + epsilon): a token whose distribution did not move

core::SparseLogits sparse(std::vector<int32_t> ids, std::vector<float> logits) {
    return core::SparseLogits{std::move(ids), std::move(logits)};
}

} // namespace

TEST(SuppressionKl, EqualNucleiGiveZeroAndDisjointOnesTheReferencesHugeValue) {
    const auto a = sparse({3, 7}, {2.0f, 1.0f});
    EXPECT_EQ(core::sparseKl(a, a, 0.6), 0.0);
    // Same support, other logits: the plain KL at temperature 0.6 (hand-computed in double).
    const auto b = sparse({3, 7}, {1.0f, 2.0f});
    const double p = 1 / (1 + std::exp(-1 / 0.6)), q = 1 - p;
    EXPECT_NEAR(core::sparseKl(a, b, 0.6), p * std::log(p / q) + q * std::log(q / p), 1e-12);
    // A token of P missing from Q's nucleus gets logit -1e9 there, as the reference does: ln Q ~ -1.7e9.
    const double disjoint = core::sparseKl(sparse({3}, {1.0f}), sparse({4}, {1.0f}), 0.6);
    EXPECT_GT(disjoint, 1e9);
}

TEST(SuppressionKl, NucleusStopsAtTopPOrMaxTokens) {
    // At temperature 0.6: masses 0.8409, 0.1589, 0.0002 and ~0.
    const std::vector<float> row = {5.0f, 10.0f, 9.0f, -20.0f};
    core::SuppressionOptions o;
    o.topP = 0.5;
    EXPECT_EQ(core::topPLogits(row.data(), 4, o).ids, (std::vector<int32_t>{1}));
    o.topP = 0.9999;
    EXPECT_EQ(core::topPLogits(row.data(), 4, o).ids, (std::vector<int32_t>{1, 2, 0}));
    o.maxTokens = 2;
    EXPECT_EQ(core::topPLogits(row.data(), 4, o).ids, (std::vector<int32_t>{1, 2}));
}

// Suppressing an empty span is the identity: its column is exactly ln(1e-9) (KL 0 on every token). A sentence's
// suppression leaves every earlier sentence exactly unchanged (causality; rows before it are not compared).
TEST(SuppressionMatrix, NothingAttendedChangesNothing) {
    core::Transformer& model = test::organism();
    const std::vector<int32_t> ids =
        model.tokenizer()
            .encode("Mia hid the key in the blue box . Tom went to the library . Where did Mia hide "
                    "the key ? In the blue box .",
                    true)
            .ids;
    const int64_t T = int64_t(ids.size());
    const std::vector<std::array<int64_t, 2>> ranges = {{1, 10}, {10, 16}, {16, 16}, {16, T}};
    core::Progress progress;
    const core::SuppressionMatrix m =
        test::onWorker([&] { return core::suppressionMatrix(model, ids, ranges, {}, &progress); });
    ASSERT_EQ(m.sentences, 4);
    EXPECT_EQ(progress.done(), 5);
    for (int64_t j : {0, 1, 3})
        EXPECT_EQ(m.values[size_t(j * 4 + 2)], kZeroLog) << "affected sentence " << j;
    EXPECT_TRUE(std::isnan(m.values[2 * 4 + 0])) << "an affected sentence without tokens is NaN";
    for (int64_t i = 1; i < 4; ++i)
        EXPECT_EQ(m.values[size_t(0 * 4 + i)], kZeroLog) << "sentence 0 is before suppressed sentence " << i;
    EXPECT_EQ(m.values[1 * 4 + 3], kZeroLog);
    // Suppressing the fact moves the later sentences.
    EXPECT_GT(m.values[3 * 4 + 0], kZeroLog + 1);
    EXPECT_TRUE(std::isnan(m.effect[3])) << "nothing follows the last sentence";
    EXPECT_EQ(m.effect[2], kZeroLog);

    const core::AnalysisResult r = core::suppressionAnalysis(m, ranges);
    EXPECT_EQ(r.name, "anchors_suppression");
    ASSERT_NE(r.dataset("matrix"), nullptr);
    EXPECT_EQ(r.dataset("matrix")->shape, (std::vector<int64_t>{4, 4}));
}

TEST(SuppressionMatrix, RefusesRangesOutsideTheTextAndStopsWhenCancelled) {
    core::Transformer& model = test::organism();
    const std::vector<int32_t> ids = {1, 5, 6, 7};
    const std::vector<std::array<int64_t, 2>> bad = {{1, 9}};
    EXPECT_THROW(core::suppressionMatrix(model, ids, bad), core::ArgumentError);
    const std::vector<std::array<int64_t, 2>> ok = {{1, 2}, {2, 4}};
    core::Progress progress;
    progress.cancel();
    EXPECT_THROW(core::suppressionMatrix(model, ids, ok, {}, &progress), core::Cancelled);
}

// The bundled story (resources/prompts/anchors_story.txt): 11 sentences, "Mia hid the key in the blue box ." (#1)
// the fact the answer "In the blue box ." (#10) needs, six filler sentences (#3-#8). Suppressing the fact moves the
// answer's next-token distributions far more than suppressing any filler sentence. Measured on the committed
// organism (f32 CPU), Supp[answer][i] = mean ln(KL + 1e-9) over the answer's tokens: the fact -9.60; the other facts
// -10.41 (#0) and -10.46 (#2); the filler -17.28, -16.90, -16.86, -16.99, -16.90, -16.00; the question -5.07. The
// fact leads the strongest filler by 6.4 (a KL about 600 times larger); asserted with margin 3. It leads the other
// facts by only 0.8, so no order among facts is asserted.
TEST(SuppressionMatrix, TheAnswerDependsOnItsFactMoreThanOnFiller) {
    core::Transformer& model = test::organism();
    const std::string text = test::readBinary<char>(test::resourcesDir() / "prompts/anchors_story.txt");
    const core::Encoding e = model.tokenizer().encode(text, true);
    std::vector<core::SentenceSpan> sentences = core::segmentSentences(text);
    std::vector<std::array<int64_t, 2>> spans;
    for (const core::ByteSpan& b : e.spans)
        spans.push_back({b.begin, b.end});
    core::assignTokenRanges(sentences, spans);
    ASSERT_EQ(sentences.size(), 11u);
    ASSERT_EQ(sentences[1].text, "Mia hid the key in the blue box .");
    ASSERT_EQ(sentences[10].text, "In the blue box .");
    std::vector<std::array<int64_t, 2>> ranges;
    for (const auto& s : sentences)
        ranges.push_back({s.tokenBegin, s.tokenEnd});
    const core::SuppressionMatrix m = test::onWorker([&] { return core::suppressionMatrix(model, e.ids, ranges); });
    auto supp = [&](int64_t j, int64_t i) { return m.values[size_t(j * 11 + i)]; };
    double fillerMax = -1e9;
    for (int64_t i = 3; i <= 8; ++i)
        fillerMax = std::max(fillerMax, supp(10, i));
    EXPECT_GT(supp(10, 1), fillerMax + 3);
}

// Wu et al.'s retrieval-head detection run on the committed organism (resources/models/organism): the bundled needles
// give the prompts the protocol asks for; needles the organism can answer by copying find the copy (induction) head
// its own evaluation names; the score accumulated while decoding with the KV cache equals the score recomputed from
// one full forward pass; and, once the organism answers its questions, the retrieval head eval-organism names.
#include "analysis/experiments/retrieval_experiment.hpp"
#include "analysis/retrieval_score.hpp"
#include "model/tokenizer.hpp"
#include "organism/organism_eval.hpp"
#include "organism/organism_haystack.hpp"
#include "runtime/attention_hook.hpp"
#include "runtime/transformer.hpp"
#include "support/organism_model.hpp"
#include "support/test_paths.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <thread>

using namespace attnscope;
using test::onWorker;
using test::organism;

namespace {

// Position of head (layer, head) in a ranking, best first (ranked.size() when absent).
std::ptrdiff_t rankOf(const std::vector<core::RankedHead>& ranked, int64_t layer, int64_t head) {
    return std::find_if(ranked.begin(), ranked.end(),
                        [&](const core::RankedHead& h) { return h.layer == layer && h.head == head; }) -
           ranked.begin();
}

core::RetrievalResult run(const std::vector<core::NeedleCase>& needles, std::vector<int64_t> lengths,
                          std::vector<int64_t> depths) {
    core::RetrievalParams p;
    p.lengths = std::move(lengths);
    p.depths = std::move(depths);
    core::Transformer& model = organism();
    return onWorker([&] { return core::runRetrievalExperiment(model, core::organismHaystack(), needles, p); });
}

// The bundled needles: 3 needles x 3 lengths x 3 depths, 27 tests.
const core::RetrievalResult& bundled() {
    static const core::RetrievalResult r =
        run(core::parseNeedles(core::organismNeedlesJsonl(), "organism_needles.jsonl"), {200, 350, 500}, {0, 50, 100});
    return r;
}

// Needles answered by copying: a span of object words (never in the filler), the question restating its first half,
// as the corpus's repeated spans train the organism to continue. Its induction heads copy over short distances only,
// hence a needle near the end: measured, all 12 tests are kept (the organism before issue 4's gapped spans kept 8).
const core::RetrievalResult& copied() {
    static const core::RetrievalResult r =
        run({{"key ball hat ring coin map cup kite .", "key ball hat ring", "coin map cup kite"},
             {"lamp bell doll drum brush apple sock watch .", "lamp bell doll drum", "brush apple sock watch"}},
            {128, 148}, {67, 78, 89});
    return r;
}

// Every head's top-1 key in rows [first, first + count) of one forward pass: [row][L][H].
class RowTop1Hook final : public core::AttentionHook {
public:
    RowTop1Hook(int64_t first, int64_t count, int64_t layers, int64_t heads)
        : m_first(first), m_heads(heads), m_layers(layers), m_top1(size_t(count * layers * heads), -1) {}
    void onProbs(const core::AttentionBlock& b, at::Tensor& probs, const at::Tensor&) override {
        const at::Tensor keys = probs.argmax(-1).to(at::kCPU, at::kLong).contiguous(); // [H, B]
        const int64_t* k = keys.data_ptr<int64_t>();
        for (int64_t r = 0; r < b.queryCount; ++r) {
            const int64_t row = b.queryBegin + r - m_first;
            if (row < 0 || row * m_layers * m_heads >= int64_t(m_top1.size())) continue;
            for (int64_t h = 0; h < m_heads; ++h)
                m_top1[size_t((row * m_layers + b.layer) * m_heads + h)] = k[h * b.queryCount + r];
        }
    }
    std::span<const int64_t> row(int64_t r) const {
        return std::span(m_top1).subspan(size_t(r * m_layers * m_heads), size_t(m_layers * m_heads));
    }

private:
    int64_t m_first, m_heads, m_layers;
    std::vector<int64_t> m_top1;
};

} // namespace

namespace {

// eval-organism on `questions` far questions and `repeats` repeated spans, on a worker thread.
core::OrganismEval evaluateOrganism(int64_t questions, int64_t repeats) {
    core::OrganismEvalOptions o;
    o.questions = questions;
    o.repeats = repeats;
    return onWorker([&] { return core::evaluateOrganism(organism(), o); });
}

} // namespace

TEST(RetrievalHeads, BundledNeedlesGiveTheReferencesPrompts) {
    const core::RetrievalResult& r = bundled();
    ASSERT_EQ(r.tests.size(), 27u);
    EXPECT_EQ(r.params.buffer, 64);                                 // min(200, 512 / 8)
    EXPECT_EQ(r.params.stopStrings, std::vector<std::string>{"."}); // the organism's vocabulary has no newline
    const core::Tokenizer& tok = organism().tokenizer();
    for (const core::RetrievalTest& t : r.tests) {
        const core::NeedleCase& n = r.needles[size_t(t.needle)];
        // length - buffer context tokens (BOS, haystack, needle), then the question.
        EXPECT_EQ(t.promptTokens, t.length - 64 + int64_t(tok.encode(n.question, false).ids.size()));
        // The span is the real needle inside the inserted needle sentence, right before its period.
        const auto needleTokens = int64_t(tok.encode(n.needle, false).ids.size());
        const auto realTokens = int64_t(tok.encode(n.realNeedle, false).ids.size());
        EXPECT_EQ(t.span.begin, t.needleAt + needleTokens - 1 - realTokens) << n.needle;
        EXPECT_EQ(t.span.end - t.span.begin, realTokens);
        // Answers end at their period (or after 50 tokens), and only answers with recall > 0.5 count.
        EXPECT_TRUE(t.generated.size() == 50u || tok.piece(t.generated.back()) == "." ||
                    t.generated.back() == tok.eosId());
        EXPECT_EQ(t.kept, t.recall > 0.5);
    }
    EXPECT_EQ(r.kept(), std::count_if(r.tests.begin(), r.tests.end(), [](const auto& t) { return t.kept; }));
}

TEST(RetrievalHeads, CopyNeedlesFindTheOrganismsInductionHeads) {
    // eval-organism's induction heads (score >= 0.5, issue 4's bar): attention from a repeated span to the token after
    // its first copy. Measured: L3H2, L2H5 and L2H6, which all score the best retrieval score here (1.000), ahead of
    // L3H3 (0.896) and the rest (0.11 or less).
    const core::OrganismEval e = evaluateOrganism(0, 30);
    const core::RetrievalResult& r = copied();
    EXPECT_GE(r.kept(), 9) << "of 12 tests kept";
    const auto ranked = core::rankHeads(r.score, -1.0);
    const core::HeadClassification c = core::classifyRetrieval(r);
    const int64_t group = r.heads / r.kvHeads;
    int64_t known = 0;
    for (int64_t l = 0; l < r.layers; ++l)
        for (int64_t h = 0; h < r.heads; ++h) {
            if (e.inductionScore[size_t(l * r.heads + h)] < 0.5) continue;
            ++known;
            const double score = r.score.at(l, h);
            // Ties share a rank: the heads scoring more than this one.
            const auto above =
                std::count_if(ranked.begin(), ranked.end(), [&](const auto& x) { return x.score > score; });
            EXPECT_LT(above, 3) << "L" << l << "H" << h << " scores " << score << ", the best " << ranked[0].score;
            // A retrieval head of the classification, and so is its KV head.
            EXPECT_EQ(c.retrieval[size_t(l * r.heads + h)], 1) << "L" << l << "H" << h;
            EXPECT_EQ(c.kvRetrieval[size_t(l * r.kvHeads + h / group)], 1) << "L" << l << "H" << h;
        }
    EXPECT_GE(known, 1) << "the organism has no induction head of 0.5 or more";
}

TEST(RetrievalHeads, DecodingScoreEqualsTheScoreOfOneFullForwardPass) {
    const core::RetrievalResult& r = copied();
    // Rebuild each kept test's prompt, run prompt + generated tokens in one forward pass, and score the rows that
    // produced the generated tokens.
    core::Transformer& model = organism();
    const core::Tokenizer& tok = model.tokenizer();
    core::NeedleTokens t;
    t.prefix = tok.encode("", true).ids;
    t.haystack = tok.encode(core::organismHaystack(), false).ids; // one copy is longer than 148 tokens
    t.periods = {tok.encode(".", false).ids.at(0)};
    size_t kept = 0;
    double total = 0;
    for (const core::RetrievalTest& test : r.tests) {
        if (!test.kept) continue;
        const core::HeadScores& decoded = r.keptScores[kept++];
        t.needle = tok.encode(r.needles[size_t(test.needle)].needle, false).ids;
        t.question = tok.encode(r.needles[size_t(test.needle)].question, false).ids;
        const core::NeedlePrompt prompt = core::buildNeedlePrompt(t, test.length, test.depth, r.params.buffer);
        ASSERT_EQ(int64_t(prompt.ids.size()), test.promptTokens);
        std::vector<int32_t> all = prompt.ids;
        all.insert(all.end(), test.generated.begin(), test.generated.end() - 1);
        const auto first = int64_t(prompt.ids.size()) - 1, steps = int64_t(test.generated.size());
        RowTop1Hook hook(first, steps, r.layers, r.heads);
        onWorker([&] { return model.forward(all, nullptr, &hook, core::Logits::Last).positions; });
        core::HeadScores full(r.layers, r.heads);
        for (int64_t s = 0; s < steps; ++s)
            core::accumulateRetrievalStep(hook.row(s), test.generated[size_t(s)], prompt.ids, test.span, full);
        EXPECT_EQ(full.values, decoded.values) << "length " << test.length << " depth " << test.depth;
        for (double v : full.values)
            total += v;
    }
    EXPECT_GT(total, 0.0); // the comparison covers real copies, not only zeros
}

TEST(RetrievalHeads, FindsTheRetrievalHeadTheOrganismsEvaluationNames) {
    // eval-organism's retrieval_head: the best head by top-1 on the fact's answer at the answering query.
    const core::OrganismEval e = evaluateOrganism(30, 0);
    const core::OrganismEval::Best best = e.best(e.retrievalTop1);
    // The committed organism answers 74% of its far questions through L3H2 (top-1 on the answer 76% of the time; see
    // OrganismKnownAnswers): the needle-in-a-haystack score must find that head too.
    ASSERT_GE(best.value, 0.5) << "L" << best.layer << "H" << best.head;
    const core::RetrievalResult& r = bundled();
    const double score = r.score.at(best.layer, best.head);
    EXPECT_GT(score, r.params.threshold) << "L" << best.layer << "H" << best.head;
    const auto ranked = core::rankHeads(r.score, -1.0);
    const auto rank = rankOf(ranked, best.layer, best.head);
    EXPECT_LT(rank, 3) << "L" << best.layer << "H" << best.head << " scores " << score;
}

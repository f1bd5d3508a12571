// Attention edits (core/intervene) on a tiny random Llama with GQA, each against the same edit done by hand in the
// independent naive forward; identities, JSON round trips, and the experiments' bookkeeping.
#include "errors.hpp"
#include "intervene/ablation_experiment.hpp"
#include "intervene/attention_edit.hpp"
#include "intervene/calibration_experiment.hpp"
#include "intervene/edit_hook.hpp"
#include "runtime/transformer.hpp"
#include "support/collect_hook.hpp"
#include "support/naive_forward.hpp"
#include "support/test_paths.hpp"
#include "support/tiny_checkpoint.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

using namespace attnscope;
using core::AblationMethod;
using core::HeadRef;
using Matrix = std::vector<std::vector<double>>;

namespace {

constexpr int64_t kTokens = 12;

std::vector<int32_t> someIds(int64_t n, int64_t vocab, int64_t salt = 0) {
    std::vector<int32_t> ids;
    for (int64_t i = 0; i < n; ++i) ids.push_back(static_cast<int32_t>((i * 7 + 3 + salt * 11) % vocab));
    return ids;
}

struct Tiny {
    test::TinySpec spec; // 2 layers, 4 query heads on 2 KV heads, head dim 8
    test::TinyWeights weights;
    std::unique_ptr<core::Transformer> model;
    std::vector<int32_t> ids;

    explicit Tiny(int64_t queryBlock = 0) {
        auto dir = test::scratchDir("intervene");
        weights = test::writeTinyCheckpoint(dir, spec);
        core::RuntimeOptions options;
        options.threads = 1;
        options.queryBlock = queryBlock; // small blocks: edits must not depend on seeing every row at once
        model = core::Transformer::load(dir, options);
        ids = someIds(kTokens, spec.vocab);
    }
    int64_t headDim() const { return spec.dModel / spec.nHeads; }

    std::vector<float> run(const core::EditSet& edits, const std::vector<int32_t>* input = nullptr) {
        const auto& x = input ? *input : ids;
        core::EditHook hook(edits, model->config());
        hook.prepare(*model, x);
        return model->forward(x, nullptr, &hook).logits;
    }
};

core::EditSet one(core::AttentionEdit e) {
    core::EditSet s;
    s.edits.push_back(std::move(e));
    return s;
}

core::HeadAblation ablation(AblationMethod m, std::vector<HeadRef> heads) {
    core::HeadAblation a;
    a.method = m;
    a.heads = std::move(heads);
    return a;
}

// Float32 runtime against the double naive forward: ~1e-6 relative on a model this small; 1e-4 absolute is what the
// runtime's own naive test uses, while a misplaced edit moves logits by 1e-2 or more (checked below).
void expectLogitsNear(const std::vector<float>& got, const test::NaiveOutput& ref, int64_t vocab) {
    for (size_t t = 0; t < ref.logits.size(); ++t)
        for (int64_t v = 0; v < vocab; ++v)
            ASSERT_NEAR(got[t * size_t(vocab) + size_t(v)], ref.logits[t][size_t(v)], 1e-4)
                << "position " << t << " id " << v;
}

double maxDiff(const std::vector<float>& a, const std::vector<float>& b) {
    double m = 0;
    for (size_t i = 0; i < a.size(); ++i) m = std::max(m, double(std::abs(a[i] - b[i])));
    return m;
}

// Head h's slice of a [T][H*d] head-output array.
void forHead(Matrix& z, int64_t h, int64_t d, const std::function<void(int64_t t, int64_t i, double&)>& f) {
    for (size_t t = 0; t < z.size(); ++t)
        for (int64_t i = 0; i < d; ++i) f(int64_t(t), i, z[t][size_t(h * d + i)]);
}

// ACT on one [T][T] map exactly as methods.md §2.1 writes it (prefill).
void actByHand(Matrix& m, double threshold, double beta) {
    const size_t T = m.size();
    std::vector<size_t> sinks;
    bool first = true;
    for (size_t k = 0; k < T; ++k) {
        double col = 0;
        for (size_t q = 0; q < T; ++q) col += m[q][k];
        if (col / double(T - k) > threshold) {
            if (!first) sinks.push_back(k);
            first = false;
        }
    }
    for (size_t q = 1; q < T; ++q) {
        double sinkMass = 0, rest = 0;
        for (size_t s : sinks) sinkMass += m[q][s];
        for (size_t k = 0; k < T; ++k)
            if (std::find(sinks.begin(), sinks.end(), k) == sinks.end()) rest += m[q][k];
        for (size_t k = 0; k < T; ++k) {
            const bool sink = std::find(sinks.begin(), sinks.end(), k) != sinks.end();
            m[q][k] = sink ? beta * m[q][k] : m[q][k] + (1 - beta) * sinkMass * m[q][k] / rest;
        }
    }
}

} // namespace

TEST(Intervene, ZeroAblationEqualsZeroingTheHeadOutputByHand) {
    Tiny tiny;
    const auto got = tiny.run(one(ablation(AblationMethod::Zero, {HeadRef{1, 2}})));
    test::NaiveEdits byHand;
    byHand.headOutputs = [&](int64_t l, Matrix& z) {
        if (l == 1) forHead(z, 2, tiny.headDim(), [](int64_t, int64_t, double& x) { x = 0; });
    };
    expectLogitsNear(got, test::naiveForward(tiny.spec, tiny.weights, tiny.ids, &byHand), tiny.spec.vocab);
    // The edit is not lost in the tolerance: the unedited model differs by far more.
    EXPECT_GT(maxDiff(got, tiny.model->forward(tiny.ids).logits), 1e-3);
}

TEST(Intervene, KvHeadAblationZeroesItsWholeGroup) {
    Tiny tiny;
    const auto got = tiny.run(one(ablation(AblationMethod::Zero, {HeadRef{0, 1, true}})));
    test::NaiveEdits byHand;
    byHand.headOutputs = [&](int64_t l, Matrix& z) {
        if (l != 0) return;
        for (int64_t h : {2, 3}) forHead(z, h, tiny.headDim(), [](int64_t, int64_t, double& x) { x = 0; });
    };
    expectLogitsNear(got, test::naiveForward(tiny.spec, tiny.weights, tiny.ids, &byHand), tiny.spec.vocab);
}

TEST(Intervene, MeanAblationUsesTheMeanOverPositionsOfTheCleanOutput) {
    Tiny tiny(5);
    const auto got = tiny.run(one(ablation(AblationMethod::Mean, {HeadRef{1, 0}})));
    test::NaiveEdits byHand;
    byHand.headOutputs = [&](int64_t l, Matrix& z) {
        if (l != 1) return; // layer 1's outputs here are the clean ones: nothing before it is edited
        std::vector<double> mean(size_t(tiny.headDim()), 0.0);
        forHead(z, 0, tiny.headDim(), [&](int64_t, int64_t i, double& x) { mean[size_t(i)] += x / kTokens; });
        forHead(z, 0, tiny.headDim(), [&](int64_t, int64_t i, double& x) { x = mean[size_t(i)]; });
    };
    expectLogitsNear(got, test::naiveForward(tiny.spec, tiny.weights, tiny.ids, &byHand), tiny.spec.vocab);
}

TEST(Intervene, ResamplePatchesTheReferenceOutputPositionByPosition) {
    Tiny tiny;
    const auto reference = someIds(7, tiny.spec.vocab, 3); // shorter than the input: positions wrap
    auto edit = ablation(AblationMethod::Resample, {HeadRef{0, 3}});
    edit.referenceIds = reference;
    const auto got = tiny.run(one(edit));
    Matrix refZ;
    test::NaiveEdits record;
    record.headOutputs = [&](int64_t l, Matrix& z) {
        if (l == 0) refZ = z;
    };
    test::naiveForward(tiny.spec, tiny.weights, reference, &record);
    test::NaiveEdits byHand;
    byHand.headOutputs = [&](int64_t l, Matrix& z) {
        if (l != 0) return;
        forHead(z, 3, tiny.headDim(),
                [&](int64_t t, int64_t i, double& x) { x = refZ[size_t(t % 7)][size_t(3 * tiny.headDim() + i)]; });
    };
    expectLogitsNear(got, test::naiveForward(tiny.spec, tiny.weights, tiny.ids, &byHand), tiny.spec.vocab);
}

TEST(Intervene, UniformAndScaledQueryAttendAsComputedByHand) {
    Tiny tiny(4);
    auto scaled = ablation(AblationMethod::Scale, {HeadRef{0, 0}});
    scaled.epsilon = 0.3;
    core::EditSet set;
    set.edits = {ablation(AblationMethod::Uniform, {HeadRef{1, 1}}), scaled};
    const auto got = tiny.run(set);
    test::NaiveEdits byHand;
    byHand.probs = [](int64_t l, int64_t h, Matrix& p) {
        for (size_t q = 0; q < p.size(); ++q) {
            if (l == 1 && h == 1)
                for (size_t k = 0; k <= q; ++k) p[q][k] = 1.0 / double(q + 1);
            if (l == 0 && h == 0) { // softmax(0.3 s) = p^0.3 renormalised
                double z = 0;
                for (size_t k = 0; k <= q; ++k) z += std::pow(p[q][k], 0.3);
                for (size_t k = 0; k <= q; ++k) p[q][k] = std::pow(p[q][k], 0.3) / z;
            }
        }
    };
    expectLogitsNear(got, test::naiveForward(tiny.spec, tiny.weights, tiny.ids, &byHand), tiny.spec.vocab);
}

TEST(Intervene, ActCalibrationMatchesTheReferenceFormulaAcrossBlocks) {
    Tiny tiny(5); // blocks of 5 rows: the sinks must come from every row, not the block's
    core::ActCalibration act;
    act.heads = {HeadRef{1, 0}, HeadRef{1, 3}};
    act.threshold = 0.1;
    act.beta = 0.4;
    core::EditHook hook(one(act), tiny.model->config());
    const auto got = tiny.model->forward(tiny.ids, nullptr, &hook).logits;
    ASSERT_FALSE(hook.actSinks(1, 0).empty()) << "the fixture must have sinks beyond the first for ACT to act";
    test::NaiveEdits byHand;
    byHand.probs = [](int64_t l, int64_t h, Matrix& p) {
        if (l == 1 && (h == 0 || h == 3)) actByHand(p, 0.1, 0.4);
    };
    expectLogitsNear(got, test::naiveForward(tiny.spec, tiny.weights, tiny.ids, &byHand), tiny.spec.vocab);
    EXPECT_GT(maxDiff(got, tiny.model->forward(tiny.ids).logits), 1e-3);
}

TEST(Intervene, SuppressionOfASpanMatchesMaskingItsLogitsByHand) {
    Tiny tiny(3);
    core::SpanSuppression s;
    s.begin = 0; // rows 0..2 see only span keys: uniform over them, as the reference's finfo.min logits give
    s.end = 3;
    s.heads = {HeadRef{0, 2}, HeadRef{1, -1}};
    const auto got = tiny.run(one(s));
    test::NaiveEdits byHand;
    byHand.probs = [](int64_t l, int64_t h, Matrix& p) {
        if (!(l == 1 || h == 2)) return;
        for (size_t q = 0; q < p.size(); ++q) {
            double rest = 0;
            for (size_t k = 3; k <= q; ++k) rest += p[q][k];
            for (size_t k = 0; k <= q; ++k)
                p[q][k] = q < 3 ? 1.0 / double(q + 1) : (k < 3 ? 0.0 : p[q][k] / rest);
        }
    };
    expectLogitsNear(got, test::naiveForward(tiny.spec, tiny.weights, tiny.ids, &byHand), tiny.spec.vocab);
}

TEST(Intervene, BetaOneCalibrationAndAnEmptySpanAreTheIdentity) {
    Tiny tiny(5);
    const auto plain = tiny.model->forward(tiny.ids).logits;
    core::ActCalibration act;
    act.heads = {HeadRef{0, -1}, HeadRef{1, -1}};
    act.beta = 1.0;
    core::SpanSuppression empty;
    empty.begin = empty.end = 4;
    core::EditSet set;
    set.edits = {act, empty};
    EXPECT_EQ(tiny.run(set), plain); // bit for bit
}

TEST(Intervene, EditsSurviveAJsonRoundTripAndGiveTheSameLogits) {
    Tiny tiny(5);
    auto resample = ablation(AblationMethod::Resample, {HeadRef{1, 1}, HeadRef{0, 0, true}});
    resample.referenceIds = someIds(9, tiny.spec.vocab, 5);
    auto scaled = ablation(AblationMethod::Scale, {HeadRef{0, -1}});
    scaled.epsilon = 0.123456789;
    core::ActCalibration act;
    act.threshold = 0.0875;
    act.beta = 0.3;
    act.heads = {HeadRef{1, 2}};
    core::SpanSuppression span{2, 5, {HeadRef{1, 3}}};
    core::EditSet set;
    set.edits = {resample, scaled, act, span, ablation(AblationMethod::Mean, {HeadRef{1, 0}})};
    const std::string json = core::editSetToJson(set);
    const core::EditSet back = core::editSetFromJson(json, "round trip");
    EXPECT_EQ(back, set);
    EXPECT_EQ(core::editSetToJson(back), json);
    EXPECT_EQ(tiny.run(back), tiny.run(set));
    // And through a file, as capture --edits reads it.
    const auto path = test::scratchDir("edits-json") / "edits.json";
    std::ofstream(path) << json;
    EXPECT_EQ(core::readEditSet(path), set);
}

TEST(Intervene, BadEditsGiveOneSentenceErrors) {
    Tiny tiny;
    auto expectThrow = [](auto f, const std::string& part) {
        try {
            f();
            ADD_FAILURE() << "no error for " << part;
        } catch (const core::Error& e) {
            const std::string m = e.what();
            EXPECT_NE(m.find(part), std::string::npos) << m;
            EXPECT_EQ(m.back(), '.') << m;
            EXPECT_EQ(m.find('\n'), std::string::npos) << m;
        }
    };
    expectThrow([&] { core::EditHook(one(ablation(AblationMethod::Zero, {HeadRef{2, 0}})), tiny.model->config()); },
                "Head 2.0 is outside the model");
    expectThrow([&] { core::EditHook(one(ablation(AblationMethod::Zero, {HeadRef{0, 2, true}})), tiny.model->config()); },
                "Head 0.kv2 is outside");
    expectThrow([] { core::editSetFromJson("{\"edits\": [", "x.json"); }, "'x.json' are not valid JSON");
    expectThrow([] { core::editSetFromJson(R"({"edits": [{"type": "melt"}]})", "x.json"); }, "unknown edit type");
    expectThrow([] { core::editSetFromJson(R"({"edits": [{"type": "ablate", "method": "zero", "heads": ["a.b"]}]})",
                                           "x.json"); },
                "head 'a.b'");
    expectThrow([] { core::readEditSet("/nonexistent/edits.json"); }, "Cannot read the edits file");
    expectThrow([] { core::parseHeadRef("3"); }, "not of the form");
    core::ActCalibration act;
    act.beta = 1.5;
    expectThrow([&] { core::validateEditSet(one(act), tiny.model->config()); }, "beta");
    auto resample = ablation(AblationMethod::Resample, {HeadRef{0, 0}});
    expectThrow([&] {
        core::EditHook hook(one(resample), tiny.model->config());
        hook.prepare(*tiny.model, tiny.ids);
    }, "reference");
}

TEST(Intervene, ActKeepsPrefillSinksForDecodeStepsAndNeverForcesBos) {
    Tiny tiny;
    core::ActCalibration act;
    act.heads = {HeadRef{1, 0}};
    core::DenseMapsHook maps(tiny.spec.nLayers, tiny.spec.nHeads, kTokens);
    core::EditHook hook(one(act), tiny.model->config(), &maps);
    core::KvCache cache;
    const std::vector<int32_t> prefix(tiny.ids.begin(), tiny.ids.end() - 1);
    tiny.model->forward(prefix, &cache, &hook);
    const auto sinks = hook.actSinks(1, 0);
    ASSERT_FALSE(sinks.empty());
    tiny.model->forward(std::vector<int32_t>{tiny.ids.back()}, &cache, &hook);
    EXPECT_EQ(hook.actSinks(1, 0), sinks); // decoding does not re-detect from one row
    double row = 0;
    for (int64_t k = 0; k < kTokens; ++k) row += maps.at(1, 0, kTokens - 1, k);
    EXPECT_NEAR(row, 1.0, 1e-5);
    EXPECT_LT(maps.at(1, 0, kTokens - 1, 0), 0.99); // the reference's decode step would set <bos> to 1
}

TEST(Intervene, SweepReportsEveryHeadAndTopKBeatsRandomOnItsOwnMetric) {
    Tiny tiny;
    core::AblationParams p;
    p.sweep = true;
    p.topK = 2;
    p.randomSeeds = 3;
    const core::AblationReport r = core::runAblation(*tiny.model, tiny.ids, p);
    ASSERT_EQ(r.perHead.size(), size_t(tiny.spec.nLayers * tiny.spec.nHeads));
    for (const auto& m : r.perHead) EXPECT_GE(m.kl, 0.0);
    // A head set of one equals the same head's sweep row.
    core::AblationParams single;
    single.heads = {HeadRef{1, 2}};
    single.target = r.target;
    const core::AblationReport s = core::runAblation(*tiny.model, tiny.ids, single);
    EXPECT_DOUBLE_EQ(s.set.kl, r.perHead[6].kl);
    EXPECT_DOUBLE_EQ(s.set.logitDiff, r.perHead[6].logitDiff);
    EXPECT_EQ(r.random.size(), 3u);
    EXPECT_LE(r.randomCiLow, r.randomMean);
    const core::AnalysisResult a = core::ablationAnalysis(r);
    ASSERT_NE(a.dataset("kl"), nullptr);
    EXPECT_EQ(a.dataset("kl")->shape, (std::vector<int64_t>{2, 4}));
    ASSERT_NE(a.parameter("edits"), nullptr);
}

// The runtime on tiny random-weight checkpoints in the exact HF layout, against an independent naive forward.
#include "errors.hpp"
#include "runtime/transformer.hpp"
#include "support/collect_hook.hpp"
#include "support/naive_forward.hpp"
#include "support/test_paths.hpp"
#include "support/tiny_checkpoint.hpp"

#include <gtest/gtest.h>

#include <cmath>

using namespace attnscope;

namespace {

std::vector<int32_t> someIds(int64_t n, int64_t vocab) {
    std::vector<int32_t> ids;
    for (int64_t i = 0; i < n; ++i) ids.push_back(static_cast<int32_t>((i * 7 + 3) % vocab));
    return ids;
}

double maxAbs(const std::vector<float>& v) {
    double m = 0;
    for (float x : v) m = std::max(m, double(std::abs(x)));
    return m;
}

double maxDiff(const std::vector<float>& a, const std::vector<float>& b) {
    EXPECT_EQ(a.size(), b.size());
    double m = 0;
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) m = std::max(m, double(std::abs(a[i] - b[i])));
    return m;
}

// Float32 against double on models this small: differences are ~1e-6 relative; 1e-4 absolute catches any real
// mistake (a wrong RoPE pairing or head mapping moves logits by 1e-1 or more).
void expectMatchesNaive(const test::TinySpec& spec, int64_t tokens, core::RuntimeOptions options = {}) {
    auto dir = test::scratchDir(spec.modelType);
    auto weights = test::writeTinyCheckpoint(dir, spec);
    auto model = core::Transformer::load(dir, options);
    const auto ids = someIds(tokens, spec.vocab);
    test::CollectHook hook(spec.nLayers, spec.nHeads, tokens);
    auto out = model->forward(ids, nullptr, &hook);
    auto ref = test::naiveForward(spec, weights, ids);
    for (int64_t t = 0; t < tokens; ++t)
        for (int64_t v = 0; v < spec.vocab; ++v)
            ASSERT_NEAR(out.logits[t * spec.vocab + v], ref.logits[t][v], 1e-4) << "position " << t << " id " << v;
    for (int64_t l = 0; l < spec.nLayers; ++l)
        for (int64_t h = 0; h < spec.nHeads; ++h)
            for (int64_t q = 0; q < tokens; ++q)
                for (int64_t k = 0; k < tokens; ++k)
                    ASSERT_NEAR(hook.at(l, h, q, k), ref.probs[l][h][q][k], 1e-5)
                        << "layer " << l << " head " << h << " query " << q << " key " << k;
}

} // namespace

TEST(TinyTransformer, LlamaWithGqaMatchesNaiveForward) {
    test::TinySpec spec; // 4 query heads on 2 KV heads
    expectMatchesNaive(spec, 12);
}

TEST(TinyTransformer, GqaWithAsManyKvHeadsAsHeadsIsPlainMultiHeadAttention) {
    test::TinySpec spec;
    spec.nKvHeads = spec.nHeads;
    expectMatchesNaive(spec, 9);
}

TEST(TinyTransformer, Qwen2BiasesAndTiedEmbeddingsMatchNaiveForward) {
    test::TinySpec spec;
    spec.modelType = "qwen2";
    spec.qkvBias = true;
    spec.tied = true;
    expectMatchesNaive(spec, 10);
}

TEST(TinyTransformer, Gpt2MatchesBlockComputedByHandForThreeTokens) {
    test::TinySpec spec;
    spec.modelType = "gpt2";
    spec.nKvHeads = spec.nHeads;
    expectMatchesNaive(spec, 3);
}

TEST(TinyTransformer, SmallQueryBlocksGiveTheSameAnswer) {
    test::TinySpec spec;
    core::RuntimeOptions o;
    o.queryBlock = 3; // 12 tokens in 4 blocks: block boundaries and the causal mask inside each
    expectMatchesNaive(spec, 12, o);
}

TEST(TinyTransformer, AttentionRowsSumToOneAndAreCausal) {
    test::TinySpec spec;
    auto dir = test::scratchDir("rows");
    test::writeTinyCheckpoint(dir, spec);
    core::RuntimeOptions o;
    o.queryBlock = 5;
    auto model = core::Transformer::load(dir, o);
    const int64_t T = 17;
    test::CollectHook hook(spec.nLayers, spec.nHeads, T);
    model->forward(someIds(T, spec.vocab), nullptr, &hook);
    EXPECT_EQ(hook.blocks, spec.nLayers * 4); // ceil(17 / 5) blocks per layer
    for (int64_t l = 0; l < spec.nLayers; ++l)
        for (int64_t h = 0; h < spec.nHeads; ++h)
            for (int64_t q = 0; q < T; ++q) {
                double sum = 0;
                for (int64_t k = 0; k < T; ++k) {
                    if (k > q) ASSERT_EQ(hook.at(l, h, q, k), 0.0f);
                    sum += hook.at(l, h, q, k);
                }
                ASSERT_NEAR(sum, 1.0, 1e-5); // float32 softmax over <= 17 terms
            }
}

TEST(TinyTransformer, KvCacheDecodingEqualsFullRecomputation) {
    test::TinySpec spec;
    auto dir = test::scratchDir("kv");
    test::writeTinyCheckpoint(dir, spec);
    auto model = core::Transformer::load(dir, {});
    const auto ids = someIds(20, spec.vocab);
    auto full = model->forward(ids);
    core::KvCache cache;
    // A 6-token prefill then one token at a time, as generation does.
    auto first = model->forward(std::span(ids).first(6), &cache);
    for (size_t i = 0; i < first.logits.size(); ++i) ASSERT_NEAR(first.logits[i], full.logits[i], 1e-5);
    for (size_t t = 6; t < ids.size(); ++t) {
        auto step = model->forward(std::span(ids).subspan(t, 1), &cache);
        ASSERT_EQ(cache.length(), int64_t(t + 1));
        for (int64_t v = 0; v < spec.vocab; ++v) ASSERT_NEAR(step.logits[v], full.logits[t * spec.vocab + v], 1e-5);
    }
}

TEST(TinyTransformer, Bf16AndF16WeightsAgreeWithF32WithinTheirPrecision) {
    test::TinySpec spec;
    const auto ids = someIds(16, spec.vocab);
    auto f32Dir = test::scratchDir("f32");
    test::writeTinyCheckpoint(f32Dir, spec);
    auto reference = core::Transformer::load(f32Dir, {})->forward(ids);
    const double scale = maxAbs(reference.logits);
    // bf16 keeps 8 mantissa bits (relative rounding 2^-9 = 0.2%); through two layers the error stays within ~2%
    // of the logit range. f16 keeps 11 bits, so 0.5%.
    for (auto [dtype, tol] : {std::pair{core::DType::BF16, 0.02}, std::pair{core::DType::F16, 0.005}}) {
        spec.dtype = dtype;
        auto dir = test::scratchDir(core::dtypeName(dtype));
        test::writeTinyCheckpoint(dir, spec);
        auto model = core::Transformer::load(dir, {});
        EXPECT_LT(maxDiff(model->forward(ids).logits, reference.logits), tol * scale) << core::dtypeName(dtype);
    }
    // Computing in bf16 (weights and activations) from the f32 file: more rounding per op, same order of error.
    core::RuntimeOptions bf16;
    bf16.dtype = core::ComputeDtype::BF16;
    auto computed = core::Transformer::load(f32Dir, bf16)->forward(ids);
    EXPECT_LT(maxDiff(computed.logits, reference.logits), 0.04 * scale);
}

TEST(TinyTransformer, ShardedBf16CheckpointEqualsSingleFile) {
    test::TinySpec spec;
    spec.dtype = core::DType::BF16;
    auto single = test::scratchDir("single");
    test::writeTinyCheckpoint(single, spec);
    spec.shards = 3;
    auto sharded = test::scratchDir("sharded");
    test::writeTinyCheckpoint(sharded, spec);
    ASSERT_TRUE(std::filesystem::exists(sharded / "model.safetensors.index.json"));
    const auto ids = someIds(8, spec.vocab);
    auto a = core::Transformer::load(single, {})->forward(ids);
    auto b = core::Transformer::load(sharded, {})->forward(ids);
    EXPECT_EQ(a.logits, b.logits); // same bytes, same order of operations
}

TEST(TinyTransformer, CudaIsRefusedWithAClearMessageWhenUnavailable) {
    test::TinySpec spec;
    auto dir = test::scratchDir("cuda");
    test::writeTinyCheckpoint(dir, spec);
    core::RuntimeOptions o;
    o.device = "cuda";
    try {
        auto model = core::Transformer::load(dir, o);
        SUCCEED() << "CUDA is available here";
    } catch (const core::UnsupportedError& e) {
        EXPECT_NE(std::string(e.what()).find("cuda"), std::string::npos);
    }
}

// The model runtime against llama2.c's run.c on the real stories260K weights (../shared/models/stories260K).
#include "model/tokenizer.hpp"
#include "runtime/generator.hpp"
#include "runtime/transformer.hpp"
#include "support/collect_hook.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>

#include <cmath>

using namespace attnscope;

namespace {

// run.c computes in float32 with another summation order; 1e-4 absolute is the bound and leaves ~10x
// headroom over the ~1e-5 differences float32 reordering gives at this size.
constexpr float kTol = 1e-4f;

std::unique_ptr<core::Transformer> loadStories(core::RuntimeOptions o = {}) {
    return core::Transformer::load(test::stories260KDir() / "stories260K.gguf", o);
}

std::vector<int32_t> referenceIds() {
    auto ids = test::readBinary<int32_t>(test::stories260KDir() / "reference/once_upon_a_time_n64.tokens.i32");
    return {ids.begin(), ids.end()};
}

std::string readText(const std::filesystem::path& p) {
    auto s = test::readBinary<char>(p);
    if (!s.empty() && s.back() == '\n') s.pop_back(); // run.c's final newline is not a token
    return s;
}

} // namespace

TEST(Stories260K, TokenizerGivesReferenceIds) {
    ATTNSCOPE_REQUIRE_SHARED();
    auto model = loadStories();
    EXPECT_EQ(model->tokenizer().encode("Once upon a time").ids, (std::vector<int32_t>{1, 403, 407, 261, 378}));
}

TEST(Stories260K, LogitsAndEveryHeadsAttentionMatchRunC) {
    ATTNSCOPE_REQUIRE_SHARED();
    auto model = loadStories();
    const auto ids = referenceIds();
    ASSERT_EQ(ids.size(), 64u);
    test::CollectHook hook(5, 8, 64);
    core::ForwardOutput out = model->forward(ids, nullptr, &hook);

    auto refLogits = test::readBinary<float>(test::stories260KDir() / "reference/once_upon_a_time_n64.logits.f32");
    ASSERT_EQ(out.logits.size(), refLogits.size());
    float worstLogit = 0;
    for (size_t i = 0; i < refLogits.size(); ++i) worstLogit = std::max(worstLogit, std::abs(out.logits[i] - refLogits[i]));
    EXPECT_LT(worstLogit, kTol);

    auto refAttn = test::readBinary<float>(test::stories260KDir() / "reference/once_upon_a_time_n64.attn.f32");
    ASSERT_EQ(hook.probs().size(), refAttn.size());
    float worstProb = 0;
    for (size_t i = 0; i < refAttn.size(); ++i) worstProb = std::max(worstProb, std::abs(hook.probs()[i] - refAttn[i]));
    EXPECT_LT(worstProb, kTol);
    // The README's spot values, so a layout mistake cannot hide behind a matching transpose.
    EXPECT_NEAR(hook.at(0, 0, 5, 0), 0.2741946f, kTol);
    EXPECT_NEAR(hook.at(4, 7, 63, 63), 0.0359267f, kTol);
    EXPECT_NEAR(hook.at(2, 3, 10, 9), 0.0344506f, kTol);
}

TEST(Stories260K, GreedyGenerationReproducesReferenceText) {
    ATTNSCOPE_REQUIRE_SHARED();
    auto model = loadStories();
    const auto& tok = model->tokenizer();
    core::GenerateOptions o;
    // run.c -n 64 runs 64 positions and prints the token predicted at each, the last one included: the 5 prompt
    // tokens are followed by 60 generated ones, of which the first 59 are the reference's input ids.
    o.maxNewTokens = 60;
    o.stopIds = core::defaultStopIds(*model);
    auto r = core::generate(*model, tok.encode("Once upon a time").ids, o);
    ASSERT_EQ(r.ids.size(), 65u);
    EXPECT_EQ(std::vector<int32_t>(r.ids.begin(), r.ids.begin() + 64), referenceIds());
    EXPECT_EQ(tok.decode(r.ids), readText(test::stories260KDir() / "reference/greedy_once_upon_a_time_n64.txt"));
}

TEST(Stories260K, GreedyFromEmptyPromptReproduces256Tokens) {
    ATTNSCOPE_REQUIRE_SHARED();
    auto model = loadStories();
    const auto& tok = model->tokenizer();
    core::GenerateOptions o;
    o.maxNewTokens = 256; // 256 positions after BOS, each printing its prediction
    o.stopIds = core::defaultStopIds(*model);
    auto r = core::generate(*model, {static_cast<int32_t>(tok.bosId())}, o);
    EXPECT_EQ(tok.decode(r.ids), readText(test::stories260KDir() / "reference/greedy_empty_prompt_n256.txt"));
}

TEST(Stories260K, BlockSizeAndEagerAttentionDoNotChangeResults) {
    ATTNSCOPE_REQUIRE_SHARED();
    const auto ids = referenceIds();
    auto whole = loadStories()->forward(ids);
    for (auto [mode, block] : {std::pair{core::AttentionMode::Blockwise, int64_t(7)},
                               std::pair{core::AttentionMode::Blockwise, int64_t(1)},
                               std::pair{core::AttentionMode::Eager, int64_t(0)}}) {
        core::RuntimeOptions o;
        o.attention = mode;
        o.queryBlock = block;
        auto out = loadStories(o)->forward(ids);
        for (size_t i = 0; i < whole.logits.size(); ++i)
            // Only float32 summation order changes; logits reach |x| ~ 15, where that is ~1e-5 (tens of ulps).
            ASSERT_NEAR(out.logits[i], whole.logits[i], 1e-4) << "block " << block;
    }
}

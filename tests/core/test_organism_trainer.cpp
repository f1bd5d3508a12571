// The organism trainer: loss falls from scratch, the saved folder is the same model under the runtime, same seed
// gives the same run, bad options are refused.
#include "errors.hpp"
#include "jobs/progress.hpp"
#include "model/tokenizer.hpp"
#include "organism/organism_trainer.hpp"
#include "organism/organism_vocab.hpp"
#include "runtime/transformer.hpp"
#include "support/small_train_options.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>

using namespace attnscope;
using core::OrganismTrainer;
using core::TrainOptions;

namespace {

TrainOptions smallOptions(int64_t steps) {
    return test::smallTrainOptions(steps);
}

double mean(const std::vector<double>& v, size_t first, size_t count) {
    return std::accumulate(v.begin() + first, v.begin() + first + count, 0.0) / double(count);
}

} // namespace

TEST(OrganismTrainer, SmallConfigFitsItsStories) {
    const TrainOptions o = smallOptions(1);
    ASSERT_LE(core::maxSampleLength(o.story), o.seqLen);
}

// From scratch the loss starts at ln(vocab) (uniform predictions). Learning only which words are frequent brings it
// to the corpus's unigram entropy, well under 0.8 x ln(vocab); a broken gradient, optimiser or target shift leaves
// it near ln(vocab). So 0.8 separates "learns" from "does not" without asking 100 tiny steps for more.
TEST(OrganismTrainer, LossFallsOverHundredStepsFromScratch) {
    TrainOptions o = smallOptions(100);
    core::Progress progress;
    int64_t calls = 0;
    auto r = core::trainOrganism(o, &progress, [&](const core::TrainStep& s) {
        ++calls;
        EXPECT_EQ(s.step, calls);
        EXPECT_TRUE(std::isfinite(s.loss));
    });
    ASSERT_EQ(r.losses.size(), 100u);
    EXPECT_EQ(calls, 100);
    EXPECT_EQ(progress.done(), 100);
    EXPECT_EQ(progress.stage(), "train");
    EXPECT_TRUE(r.folder.empty());
    EXPECT_GT(r.tokensPerSecond, 0.0);
    const double first = mean(r.losses, 0, 10), last = mean(r.losses, 90, 10);
    EXPECT_NEAR(r.losses.front(), std::log(double(core::organismVocab().size())), 0.3);
    EXPECT_LT(last, 0.8 * first) << "first 10 steps " << first << ", last 10 steps " << last;
}

// The trainer and the runtime must compute the same function: RoPE pairing, GQA mapping, norms, tied head. Both are
// float32 on the same weights; 1e-4 leaves room for different summation orders (on CPU they agree to the bit today),
// while a real mismatch is far larger (rotating RoPE the wrong way moved logits by 0.14 after these 20 steps).
TEST(OrganismTrainer, SavedFolderLoadsThroughRuntimeWithTheSameLogits) {
    TrainOptions o = smallOptions(20);
    o.outDir = test::scratchDir("organism") / "model";
    auto r = core::trainOrganism(o);
    ASSERT_EQ(r.folder, o.outDir);
    for (const char* f :
         {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "training_curve.csv"})
        EXPECT_TRUE(std::filesystem::exists(o.outDir / f)) << f;

    OrganismTrainer reference(o); // same seed, retrained: the trainer's own forward on the saved weights
    for (int64_t i = 0; i < o.steps; ++i)
        reference.step();

    auto model = core::Transformer::load(o.outDir, core::RuntimeOptions{});
    EXPECT_EQ(model->config().nLayers, o.layers);
    core::StoryCorpus corpus(o.seed, o.story);
    const auto sample = corpus.sample(core::CorpusSplit::HeldOut, 3);
    EXPECT_EQ(model->tokenizer().encode(sample.text()).ids, sample.ids);

    auto ours = reference.logits(sample.ids);
    auto runtime = model->forward(sample.ids);
    ASSERT_EQ(runtime.logits.size(), ours.size());
    double worst = 0;
    for (size_t i = 0; i < ours.size(); ++i)
        worst = std::max(worst, double(std::abs(ours[i] - runtime.logits[i])));
    EXPECT_LT(worst, 1e-4);
}

TEST(OrganismTrainer, SameSeedGivesIdenticalLosses) {
    const TrainOptions o = smallOptions(4);
    OrganismTrainer a(o), b(o);
    for (int i = 0; i < 4; ++i)
        EXPECT_EQ(a.step().loss, b.step().loss) << "step " << i + 1;
    TrainOptions other = o;
    other.seed = o.seed + 1;
    OrganismTrainer c(other);
    EXPECT_NE(c.step().loss, OrganismTrainer(o).step().loss);
}

TEST(OrganismTrainer, RefusesInconsistentOptions) {
    TrainOptions o = smallOptions(1);
    o.kvHeads = 3;
    EXPECT_THROW(OrganismTrainer{o}, core::ArgumentError);
    o = smallOptions(1);
    o.story = core::StoryConfig{}; // stories up to ~512 tokens do not fit 128
    EXPECT_THROW(OrganismTrainer{o}, core::ArgumentError);
    o = smallOptions(1);
    o.device = "tpu";
    EXPECT_THROW(OrganismTrainer{o}, core::ArgumentError);
}

// --init continues from a saved organism: the first logits are the saved model's (the runtime's, within float32
// summation order), a folder trained with a shorter vocabulary keeps its rows, and a model of another size is refused.
TEST(OrganismTrainer, InitStartsFromTheSavedWeights) {
    TrainOptions o = smallOptions(10);
    o.outDir = test::scratchDir("organism-init") / "model";
    core::trainOrganism(o);

    TrainOptions next = smallOptions(1);
    next.initFrom = o.outDir;
    next.seed = o.seed + 1; // another weight seed: only the loaded weights can make the logits agree
    OrganismTrainer continued(next);
    auto model = core::Transformer::load(o.outDir, core::RuntimeOptions{});
    const auto sample = core::StoryCorpus(o.seed, o.story).sample(core::CorpusSplit::HeldOut, 1);
    const auto ours = continued.logits(sample.ids);
    const auto saved = model->forward(sample.ids).logits;
    ASSERT_EQ(ours.size(), saved.size());
    double worst = 0;
    for (size_t i = 0; i < ours.size(); ++i)
        worst = std::max(worst, double(std::abs(ours[i] - saved[i])));
    EXPECT_LT(worst, 1e-4); // same weights, same float32 maths up to summation order

    // The continued organism's config nests its parent's training record, so every stage stays named.
    next.outDir = o.outDir.parent_path() / "continued";
    core::trainOrganism(next);
    std::ifstream in(next.outDir / "config.json");
    const auto config = nlohmann::json::parse(in);
    EXPECT_EQ(config["attnscope_training"]["init_from"], "model");
    EXPECT_EQ(config["attnscope_training"]["steps"], 1);
    EXPECT_EQ(config["attnscope_training"]["init_training"]["steps"], 10);
    EXPECT_EQ(config["attnscope_training"]["init_training"]["seed"], o.seed);

    TrainOptions wider = smallOptions(1);
    wider.initFrom = o.outDir;
    wider.width = 2 * o.width;
    EXPECT_THROW(OrganismTrainer{wider}, core::ArgumentError);
}

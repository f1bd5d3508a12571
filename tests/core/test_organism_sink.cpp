// The sink detector (`analyze --only sinks`, methods.md §1.2) on captures of the organism's held-out stories names the
// head eval-organism names as its most sink-like one (L2H4: parked on <bos> while a story's first fact is read, then
// looking back at earlier facts), with the same alpha over the first 64 tokens. Neither reaches the 0.3: the
// organism has no sink yet (resources/models/organism/README.md).
#include "capture/capture_job.hpp"
#include "jobs/analyze_job.hpp"
#include "organism/organism_eval.hpp"
#include "organism/story_corpus.hpp"
#include "store/run_reader.hpp"
#include "support/organism_model.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>

using namespace attnscope;
using test::onWorker;
using test::organism;

namespace {

// The sinks analysis' alpha_first ([L,H]: alpha of key 0 over the first 64 tokens) of one captured story.
std::vector<double> detectedAlpha(const core::StorySample& story, int64_t index) {
    core::CaptureOptions o;
    o.promptIds.assign(story.ids.begin(), story.ids.end());
    o.out = test::scratchDir("organism-sink") / ("story" + std::to_string(index) + ".attn.h5");
    const core::CaptureResult run = core::captureRun(organism(), o);
    core::analyzeRun({run.file, {"sinks"}});
    return core::RunReader(run.file).analysis("sinks").dataset("alpha_first")->toDoubles();
}

} // namespace

TEST(OrganismSink, DetectorNamesTheHeadTheEvaluatorNamesWithItsAlpha) {
    const core::OrganismEvalOptions o; // eval-organism's defaults: 107 held-out stories
    const core::OrganismEval e = onWorker([&] { return core::evaluateOrganism(organism(), o); });
    const auto evaluated = e.best(e.bosAlpha, 1);

    // The detector on the first 40 held-out stories, averaged as eval-organism averages over its stories.
    constexpr int64_t kStories = 40;
    const core::StoryCorpus corpus(o.seed, o.story);
    std::vector<double> mean;
    for (int64_t i = 0; i < kStories; ++i) {
        const std::vector<double> a =
            onWorker([&] { return detectedAlpha(corpus.sample(core::CorpusSplit::HeldOut, i), i); });
        mean.resize(a.size(), 0.0);
        for (size_t k = 0; k < a.size(); ++k)
            mean[k] += a[k] / double(kStories);
    }
    const int64_t H = e.heads;
    size_t best = size_t(H); // layers above 0, as the evaluator's sink head
    for (size_t k = size_t(H); k < mean.size(); ++k)
        if (mean[k] > mean[best]) best = k;
    EXPECT_EQ(int64_t(best) / H, evaluated.layer);
    EXPECT_EQ(int64_t(best) % H, evaluated.head);
    // Measured: L2H4 0.252 by the evaluator over its 107 stories, 0.256 by the detector over its 40 (another sample
    // of the same held-out stories, the maps read back from float16); 0.03 leaves room for that sampling.
    EXPECT_NEAR(mean[best], evaluated.value, 0.03) << "L" << best / size_t(H) << "H" << best % size_t(H);
    EXPECT_LE(mean[best], 0.3); // no sink yet: when one is trained in, this test's header and the README change
}

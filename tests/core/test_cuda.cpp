// CUDA against CPU: the same capture and the same training run on both devices. Skipped where libtorch has no CUDA
// device (CI); run on a GPU machine with a CUDA build of libtorch.
#include "capture/capture_job.hpp"
#include "organism/organism_trainer.hpp"
#include "runtime/transformer.hpp"
#include "store/run_reader.hpp"
#include "support/small_train_options.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>

#include <ATen/Context.h>

#include <algorithm>
#include <cmath>

using namespace attnscope;

namespace {

#define ATTNSCOPE_REQUIRE_CUDA()                                                                  \
    do {                                                                                          \
        if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device (or a CPU-only libtorch) on this machine"; \
    } while (0)

core::CaptureResult captureOn(const std::string& device, const std::filesystem::path& out, int64_t generate) {
    core::RuntimeOptions r;
    r.device = device;
    r.queryBlock = 16; // four blocks per layer, so the accumulation across blocks is compared too
    auto model = core::Transformer::load(test::stories260KDir() / "stories260K.gguf", r);
    core::CaptureOptions o;
    o.prompt = "Once upon a time";
    o.generate = generate;
    o.full = core::FullMaps::Always;
    o.out = out;
    return core::captureRun(*model, o);
}

double maxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
    EXPECT_EQ(a.size(), b.size());
    double d = 0;
    for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
        d = std::max(d, double(std::fabs(a[i] - b[i])));
    return d;
}

} // namespace

// stories260K, "Once upon a time" + 59 greedy tokens (the reference story), captured on both devices.
TEST(Cuda, CaptureEqualsCpuCapture) {
    ATTNSCOPE_REQUIRE_CUDA();
    ATTNSCOPE_REQUIRE_SHARED();
    auto dir = test::scratchDir("cuda");
    auto cpu = captureOn("cpu", dir / "cpu.attn.h5", 59);
    auto gpu = captureOn("cuda", dir / "cuda.attn.h5", 59);
    ASSERT_EQ(cpu.tokens, gpu.tokens);
    core::RunReader a(dir / "cpu.attn.h5"), b(dir / "cuda.attn.h5");
    // Greedy generation takes the same tokens: the logits differ by float32 rounding only.
    EXPECT_EQ(a.tokens().ids, b.tokens().ids);
    const auto& m = a.model();
    const int64_t T = cpu.tokens;
    for (int64_t l = 0; l < m.nLayers; ++l)
        for (int64_t h = 0; h < m.nHeads; ++h) {
            // Stored as float16: values <= 1 round to within 2^-12; float32 noise between the devices can put them on
            // the two sides of one rounding boundary, so one float16 step (2^-11 < 1e-3) apart at most.
            EXPECT_LE(maxAbsDiff(a.tile(l, h, 0, 0, 0, T).values, b.tile(l, h, 0, 0, 0, T).values), 1e-3)
                << "probs L" << l << "H" << h;
            for (int level : a.summary().pyramidLevels)
                EXPECT_LE(maxAbsDiff(a.tile(l, h, level, 0, 0, T).values, b.tile(l, h, level, 0, 0, T).values), 1e-3)
                    << "pyramid level " << level << " L" << l << "H" << h;
        }
    // float32 statistics: different summation orders on the two devices, so relative float32 noise (~1e-6) times
    // T-term sums; 1e-4 absolute on values of order 1 leaves room for that and catches any real difference.
    for (int64_t l = 0; l < m.nLayers; ++l) {
        for (const char* name : {"received", "alpha", "entropy", "first_mass", "lse"})
            EXPECT_LE(maxAbsDiff(a.layerStat(name, l), b.layerStat(name, l)), 1e-4) << name << " L" << l;
        EXPECT_LE(maxAbsDiff(a.valueNorms(l), b.valueNorms(l)), 1e-4) << "value norms L" << l;
    }
    // Residual norms grow to tens; float32 relative noise of 1e-5 over the layers stays far under 1e-3 of them.
    auto ra = a.residualNorms(), rb = b.residualNorms();
    ASSERT_EQ(ra.size(), rb.size());
    for (size_t i = 0; i < ra.size(); ++i)
        EXPECT_NEAR(ra[i], rb[i], 1e-3 * std::max(1.f, std::fabs(ra[i])));
}

// Both devices learn: 60 steps of a small config from the same seed end at nearly the same loss. They cannot be
// equal (different kernels, float32 noise compounds through training), so the check is that CUDA learns as CPU does.
TEST(Cuda, TrainingLearnsAsOnCpu) {
    ATTNSCOPE_REQUIRE_CUDA();
    auto run = [](const std::string& device) {
        core::TrainOptions o = test::smallTrainOptions(60, 3);
        o.device = device;
        return core::trainOrganism(o).losses;
    };
    auto cpu = run("cpu"), gpu = run("cuda");
    ASSERT_EQ(cpu.size(), gpu.size());
    // Step 1 sees the same weights and batch on both: float32 noise only.
    EXPECT_NEAR(cpu.front(), gpu.front(), 1e-3);
    EXPECT_LT(gpu.back(), 0.8 * gpu.front());
    // After 60 steps the runs have drifted apart by float32 noise through AdamW; 5% of the loss is far above that
    // drift in practice and far below the gap between learning and not learning.
    EXPECT_NEAR(cpu.back(), gpu.back(), 0.05 * cpu.back());
}

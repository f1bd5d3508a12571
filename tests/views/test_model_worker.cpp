// views/model_worker.hpp on the committed organism: a load, jobs run in order on the loaded model, cancellation of a
// running and of a queued job, errors as one-sentence messages naming the path, and destruction while busy.
#include "model_worker.hpp"

#include "errors.hpp"
#include "runtime/transformer.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace attnscope::views {
namespace {

using Clock = std::chrono::steady_clock;

// Polls as the UI does each frame; false when the job is not ready within `seconds`.
bool waitReady(const WorkerJobBase& job, double seconds = 120) {
    const auto end = Clock::now() + std::chrono::duration<double>(seconds);
    while (!job.ready()) {
        if (Clock::now() > end) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

std::filesystem::path organismPath() {
    return test::resourcesDir() / "models/organism";
}

// Runs until cancelled; counts its own iterations so a test can see it started.
int64_t spinUntilCancelled(core::Transformer&, core::Progress& p) {
    p.begin("spin", 0);
    while (!p.cancelled())
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    throw core::Cancelled{};
}

TEST(ModelWorker, LoadsTheOrganismAndRunsJobsInOrder) {
    ModelWorker worker;
    auto load = worker.load(organismPath());
    std::vector<int> order;
    auto first = worker.submit<int64_t>("forward", [&](core::Transformer& m, core::Progress& p) {
        p.begin("forward", 1);
        order.push_back(1);
        const std::vector<int32_t> ids{0, 5, 6, 7};
        const auto out = m.forward(ids, nullptr, nullptr, core::Logits::Last);
        p.advance();
        return out.vocab;
    });
    auto second = worker.submit<int64_t>("layers", [&](core::Transformer& m, core::Progress&) {
        order.push_back(2);
        return m.config().nLayers;
    });
    EXPECT_TRUE(worker.busy());
    ASSERT_TRUE(waitReady(*second));
    ASSERT_TRUE(load->succeeded()) << load->error();
    ASSERT_TRUE(first->succeeded()) << first->error();
    ASSERT_TRUE(second->succeeded()) << second->error();
    EXPECT_EQ(first->take(), 171); // the organism's vocabulary (resources/models/organism/config.json)
    EXPECT_EQ(second->take(), 4);
    EXPECT_EQ(order, (std::vector<int>{1, 2}));
    EXPECT_FLOAT_EQ(first->fraction(), 1.0f);
    EXPECT_TRUE(worker.model().loaded());
    EXPECT_NE(worker.model().description.find("4 layers x 8 heads"), std::string::npos) << worker.model().description;
    // The same model again is a no-op; ensureLoaded() does not even queue it.
    EXPECT_EQ(worker.ensureLoaded(organismPath()), nullptr);
    auto again = worker.load(organismPath());
    ASSERT_TRUE(waitReady(*again));
    EXPECT_TRUE(again->succeeded());
}

TEST(ModelWorker, CancelsTheRunningJobAndSkipsACancelledQueuedOne) {
    ModelWorker worker;
    worker.load(organismPath());
    auto spin = worker.submit<int64_t>("spin", spinUntilCancelled);
    bool queuedRan = false;
    auto queued = worker.submit<int>("queued", [&](core::Transformer&, core::Progress&) {
        queuedRan = true;
        return 1;
    });
    auto after = worker.submit<int>("after", [](core::Transformer&, core::Progress&) { return 7; });
    queued->cancel();
    const auto until = Clock::now() + std::chrono::seconds(60);
    while (!spin->started() && Clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ASSERT_TRUE(spin->started());
    EXPECT_FALSE(spin->ready());
    spin->cancel();
    ASSERT_TRUE(waitReady(*after));
    EXPECT_TRUE(spin->wasCancelled());
    EXPECT_TRUE(queued->wasCancelled());
    EXPECT_FALSE(queuedRan);
    EXPECT_TRUE(spin->error().empty());
    ASSERT_TRUE(after->succeeded());
    EXPECT_EQ(after->take(), 7);
}

TEST(ModelWorker, ErrorsBecomeOneSentenceMessages) {
    ModelWorker worker;
    const std::filesystem::path missing = test::scratchDir("model_worker") / "no-such-model";
    auto load = worker.load(missing);
    auto job = worker.submit<int>("needs a model", [](core::Transformer&, core::Progress&) { return 1; });
    ASSERT_TRUE(waitReady(*job));
    ASSERT_FALSE(load->succeeded());
    EXPECT_NE(load->error().find(missing.string()), std::string::npos) << load->error();
    EXPECT_EQ(load->error().find('\n'), std::string::npos);
    EXPECT_FALSE(job->succeeded());
    EXPECT_EQ(job->error(), load->error()); // a job without a model says why there is none
    EXPECT_FALSE(worker.model().loaded());
    EXPECT_EQ(worker.model().error, load->error());

    // A job's own typed error comes back as its message; the worker carries on.
    worker.load(organismPath());
    auto bad = worker.submit<int>("bad", [](core::Transformer&, core::Progress&) -> int {
        throw core::ArgumentError("Head 9.2 is outside the model: it has 4 layers of 8 heads.");
    });
    auto good =
        worker.submit<int>("good", [](core::Transformer& m, core::Progress&) { return int(m.config().nHeads); });
    ASSERT_TRUE(waitReady(*good));
    EXPECT_EQ(bad->error(), "Head 9.2 is outside the model: it has 4 layers of 8 heads.");
    ASSERT_TRUE(good->succeeded()) << good->error();
    EXPECT_EQ(good->take(), 8);
}

TEST(ModelWorker, AnUnavailableDeviceIsAMessage) {
    ModelWorker worker;
    auto load = worker.load(organismPath(), "cuda:7");
    ASSERT_TRUE(waitReady(*load));
    EXPECT_FALSE(load->succeeded());
    EXPECT_NE(load->error().find("cuda:7"), std::string::npos) << load->error();
    EXPECT_EQ(availableDevices().front(), "cpu");
}

TEST(ModelWorker, DestroyingWhileBusyCancelsAndJoins) {
    std::shared_ptr<WorkerJob<int64_t>> spin, queued;
    const auto start = Clock::now();
    {
        ModelWorker worker;
        worker.load(organismPath());
        spin = worker.submit<int64_t>("spin", spinUntilCancelled);
        queued = worker.submit<int64_t>("queued", spinUntilCancelled);
        const auto until = Clock::now() + std::chrono::seconds(60);
        while (!spin->started() && Clock::now() < until)
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 60.0);
    EXPECT_TRUE(spin->wasCancelled());
    EXPECT_TRUE(queued->wasCancelled());
}

} // namespace
} // namespace attnscope::views

// The model panels drawn headless (an ImGui context without a GL backend) for many frames on the committed organism:
// the capture panel writes a run and asks the app to open it; the ablation panel's preview agrees with the run's own
// loss and top-k and its sweep fills a live metric; the calibration panel re-runs the run's tokens (β = 1 changes
// nothing) and re-runs again when a slider moves. The heatmaps (GL) are left to the Xvfb tests.
#include "model_worker.hpp"
#include "panel_math.hpp"
#include "support/test_paths.hpp"
#include "view_ablation_panel.hpp"
#include "view_calibration_panel.hpp"
#include "view_capture_panel.hpp"
#include "view_compare.hpp"

#include "capture/capture_job.hpp"
#include "tile_loader.hpp"

#define GL_GLEXT_PROTOTYPES
#include <GL/gl.h>
#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <gtest/gtest.h>
#include <imgui.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

namespace attnscope::views {
namespace {

class Headless : public ::testing::Test {
protected:
    void SetUp() override {
        ImGui::CreateContext();
        ImGuiIO& io = ImGui::GetIO();
        io.DisplaySize = ImVec2(1280, 800);
        io.IniFilename = nullptr;
        unsigned char* pixels = nullptr;
        int w = 0, h = 0;
        io.Fonts->GetTexDataAsRGBA32(&pixels, &w, &h);
    }
    void TearDown() override { ImGui::DestroyContext(); }

    // Draws frames (1/60 s of ImGui time each, a little wall time for the worker) until done() or the timeout.
    bool framesUntil(const std::function<void()>& draw, const std::function<bool()>& done, double seconds = 180) {
        const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
        for (;;) {
            ImGui::GetIO().DeltaTime = 1.0f / 60.0f;
            ImGui::NewFrame();
            draw();
            ImGui::Render();
            if (done()) return true;
            if (std::chrono::steady_clock::now() > end) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    }
};

std::string readText(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

TEST_F(Headless, CaptureAblationAndCalibrationPanelsRunTheOrganism) {
    ExplorerState state;
    state.modelPath = test::resourcesDir() / "models/organism";
    std::vector<std::pair<std::filesystem::path, bool>> opened;
    state.openRun = [&](const std::filesystem::path& p, bool asCompare) { opened.emplace_back(p, asCompare); };
    ModelWorker worker;

    // Capture: the UI never waits; the run opens through ExplorerState::openRun.
    ViewCapturePanel capture(state, worker);
    capture.prompt = readText(test::resourcesDir() / "prompts/demo_story.txt");
    capture.outFolder = test::scratchDir("panels_headless");
    ASSERT_TRUE(capture.startCapture()) << capture.message();
    EXPECT_FALSE(capture.startCapture()); // one at a time
    ASSERT_TRUE(framesUntil([&] { capture.draw(); }, [&] { return !capture.capturing(); })) << "capture timed out";
    ASSERT_EQ(opened.size(), 1u) << capture.message();
    EXPECT_FALSE(opened[0].second);
    ASSERT_TRUE(std::filesystem::exists(opened[0].first));
    EXPECT_EQ(opened[0].first.parent_path(), capture.outFolder);
    auto snapshot = std::make_shared<const RunSnapshot>(loadRunSnapshot(opened[0].first));
    state.run.snapshot = snapshot; // no tile loader: these panels draw no heatmaps here
    const int64_t T = snapshot->tokenCount();
    ASSERT_GT(T, 10);

    // Ablation preview of one picked head.
    ViewAblationPanel ablation(state, worker);
    state.picked = {{1, 2}};
    ASSERT_TRUE(framesUntil([&] { ablation.draw(); }, [&] { return ablation.preview().has_value(); }))
        << ablation.message();
    const AblationPreview& p = *ablation.preview();
    // The unablated loss is the run's own /output/loss mean (float32 storage of each position's loss).
    EXPECT_NEAR(p.baseLoss, meanFinite(snapshot->output.loss), 1e-4);
    EXPECT_TRUE(std::isfinite(p.metrics.deltaLoss));
    EXPECT_GE(p.metrics.kl, 0.0);
    ASSERT_FALSE(p.before.empty());
    EXPECT_EQ(p.before[0].id, storedTopK(snapshot->output, T - 1)[0].id);
    EXPECT_EQ(p.before[0].id, p.target); // the default target is the base argmax
    EXPECT_TRUE(p.pieces.count(p.target));
    const double previewDelta = p.metrics.deltaLoss;

    // Sweep: the live metric starts all NaN and ends with every head.
    ASSERT_TRUE(ablation.startSweep()) << ablation.message();
    const HeadMetric* live = nullptr;
    for (const auto& m : state.liveMetrics)
        if (m.name == ViewAblationPanel::liveName("delta_loss")) live = &m;
    ASSERT_NE(live, nullptr);
    EXPECT_TRUE(std::isnan(live->values[0]));
    EXPECT_EQ(state.metric, "ablation/delta_loss (live)");
    ASSERT_TRUE(framesUntil([&] { ablation.draw(); }, [&] { return !ablation.sweeping(); })) << "sweep timed out";
    live = nullptr;
    for (const auto& m : state.liveMetrics)
        if (m.name == ViewAblationPanel::liveName("delta_loss")) live = &m;
    ASSERT_NE(live, nullptr);
    ASSERT_EQ(live->values.size(), size_t(snapshot->layers() * snapshot->heads()));
    for (double v : live->values)
        EXPECT_TRUE(std::isfinite(v));
    EXPECT_NEAR(live->values[size_t(1 * snapshot->heads() + 2)], previewDelta, 1e-9); // the same forward twice

    // Calibration with β = 1: sinks keep all their mass, so the output is the run's own.
    ViewCalibrationPanel calibration(state, worker);
    calibration.showHeatmaps = false;
    calibration.beta = 1.0f;
    ASSERT_TRUE(
        framesUntil([&] { calibration.draw(); }, [&] { return calibration.calibrated() && !calibration.running(); }))
        << calibration.message();
    const auto first = calibration.calibrated().snapshot;
    EXPECT_EQ(first->tokens.ids, snapshot->tokens.ids);
    // Losses are float32 per position; the capture recomputes them in a different order of the same sums.
    EXPECT_NEAR(meanFinite(first->output.loss), meanFinite(snapshot->output.loss), 1e-4);
    ASSERT_TRUE(std::filesystem::exists(first->path));
    calibration.beta = 0.0f; // a moved slider re-runs once it rests
    ASSERT_TRUE(framesUntil([&] { calibration.draw(); },
                            [&] { return calibration.calibrated().snapshot != first && !calibration.running(); }))
        << calibration.message();
    EXPECT_FALSE(std::filesystem::exists(first->path)); // the superseded temporary run is removed
    EXPECT_TRUE(std::isfinite(meanFinite(calibration.calibrated().snapshot->output.loss)));
}

TEST_F(Headless, PanelsWithoutARunOrModelSaySo) {
    ExplorerState state;
    ModelWorker worker;
    ViewCapturePanel capture(state, worker);
    ViewAblationPanel ablation(state, worker);
    ViewCalibrationPanel calibration(state, worker);
    calibration.showHeatmaps = false;
    int frames = 0;
    framesUntil(
        [&] {
            capture.draw();
            ablation.draw();
            calibration.draw();
        },
        [&] { return ++frames >= 30; });
    EXPECT_FALSE(capture.startCapture());
    EXPECT_EQ(capture.message(), "Type or paste a prompt first.");
    capture.prompt = "a b";
    EXPECT_FALSE(capture.startCapture());
    EXPECT_NE(capture.message().find("model"), std::string::npos);
    EXPECT_FALSE(ablation.startSweep());
    EXPECT_FALSE(calibration.startScreening());
    EXPECT_FALSE(worker.busy());
}

// The GL half: the calibration panel's three heatmaps and the compare view, for real under Xvfb (skipped without a
// display). Checks that they draw tiles without errors and that the difference is refused for unequal lengths.
TEST(PanelsGl, CalibrationHeatmapsAndCompareDraw) {
    if (!glfwInit()) GTEST_SKIP() << "no display (run under xvfb-run)";
    glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
    glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
    glfwWindowHint(GLFW_VISIBLE, GLFW_FALSE);
    GLFWwindow* window = glfwCreateWindow(1400, 900, "test", nullptr, nullptr);
    if (!window) {
        glfwTerminate();
        GTEST_SKIP() << "no OpenGL 3.3 core context";
    }
    glfwMakeContextCurrent(window);
    ImGui::CreateContext();
    ImGui::GetIO().IniFilename = nullptr;
    ImGui_ImplGlfw_InitForOpenGL(window, false);
    ImGui_ImplOpenGL3_Init("#version 330 core");
    {
        ExplorerState state;
        std::vector<std::string> errors;
        state.status = [&](const std::string& s) { errors.push_back(s); };
        state.modelPath = test::resourcesDir() / "models/organism";
        ModelWorker worker;
        worker.load(state.modelPath);
        const auto dir = test::scratchDir("panels_gl");
        auto capture = [&](const std::string& prompt, const std::string& name) {
            core::CaptureOptions o;
            o.prompt = prompt;
            o.out = dir / name;
            return worker.submit<std::filesystem::path>(
                name, [o](core::Transformer& m, core::Progress& p) { return core::captureRun(m, o, &p).file; });
        };
        auto longRun = capture(readText(test::resourcesDir() / "prompts/demo_story.txt"), "long.attn.h5");
        auto shortRun = capture("Mia hid the key in the blue box . Where did Mia hide the key ?", "short.attn.h5");
        while (!shortRun->ready())
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        ASSERT_TRUE(longRun->succeeded()) << longRun->error();
        ASSERT_TRUE(shortRun->succeeded()) << shortRun->error();
        auto open = [](const std::filesystem::path& p) {
            return OpenRun{std::make_shared<const RunSnapshot>(loadRunSnapshot(p)), std::make_shared<TileLoader>(p)};
        };
        state.run = open(longRun->take());
        state.layer = 2;
        state.head = 1;

        ViewCalibrationPanel calibration(state, worker);
        calibration.beta = 0.0f;
        ViewCompare compare(state);
        compare.mode = ViewCompare::Mode::Difference;
        auto frame = [&] {
            ImGui_ImplOpenGL3_NewFrame();
            ImGui_ImplGlfw_NewFrame();
            ImGui::NewFrame();
            ImGui::SetNextWindowSize(ImVec2(1000, 500), ImGuiCond_Always);
            calibration.draw();
            ImGui::SetNextWindowSize(ImVec2(900, 400), ImGuiCond_Always);
            compare.draw();
            ImGui::Render();
            ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
            glfwSwapBuffers(window);
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        };
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(120);
        while ((!calibration.calibrated() || calibration.running()) && std::chrono::steady_clock::now() < until)
            frame();
        ASSERT_TRUE(calibration.calibrated()) << calibration.message();
        for (int i = 0; i < 30; ++i) // tiles arrive over a few frames
            frame();
        EXPECT_EQ(compare.differenceProblem(), "Open a second run to compare with.");
        state.compare = calibration.calibrated(); // calibrated vs original: same length, a difference
        for (int i = 0; i < 10; ++i)
            frame();
        EXPECT_EQ(compare.differenceProblem(), "");
        state.compare = open(shortRun->take()); // another prompt: side by side only
        for (int i = 0; i < 10; ++i)
            frame();
        EXPECT_NE(compare.differenceProblem().find("different lengths"), std::string::npos);
        EXPECT_TRUE(errors.empty()) << errors.front();
        EXPECT_EQ(glGetError(), GLenum(GL_NO_ERROR));
    }
    ImGui_ImplOpenGL3_Shutdown();
    ImGui_ImplGlfw_Shutdown();
    ImGui::DestroyContext();
    glfwDestroyWindow(window);
    glfwTerminate();
}

} // namespace
} // namespace attnscope::views

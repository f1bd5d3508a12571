// HeatmapCanvas drawn for real under Xvfb (Mesa): a hidden GLFW window with ImGui, the organism's demo capture
// (258 tokens), frames until the tiles are in, then the window's pixels: cells below the diagonal hold the colormap's
// colour for their value, cells above it the mask colour; difference of a run with itself is the neutral colour.
#include "heatmap_canvas.hpp"
#include "heatmap_shader.hpp"
#include "run_snapshot.hpp"
#include "tile_loader.hpp"
#include "view_heatmap.hpp"

#include "store/run_reader.hpp"
#include "support/cli_runner.hpp"
#include "support/test_paths.hpp"

#define GL_GLEXT_PROTOTYPES
#include <GL/gl.h>
#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <gtest/gtest.h>
#include <imgui.h>

#include <chrono>
#include <cmath>
#include <thread>

namespace attnscope::views {
namespace {

constexpr int kW = 900, kH = 820;

class HeatmapCanvasGl : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        s_run = test::scratchDir("heatmap_canvas_gl") / "demo.attn.h5";
        const auto r = test::runCli({"capture", (test::resourcesDir() / "models/organism").string(), "--prompt-file",
                                     (test::resourcesDir() / "prompts/demo_story.txt").string(), "--out",
                                     s_run.string()});
        ASSERT_EQ(r.code, 0) << r.err;
    }
    // One GLFW, one window and one ImGui context for the suite: initialising GLFW again per test sometimes failed
    // to reach Xvfb.
    static void TearDownTestSuite() {
        if (ImGui::GetCurrentContext()) {
            ImGui_ImplOpenGL3_Shutdown();
            ImGui_ImplGlfw_Shutdown();
            ImGui::DestroyContext();
        }
        if (s_window) glfwDestroyWindow(s_window);
        if (s_glfw) glfwTerminate();
        s_window = nullptr, s_glfw = false;
    }
    void SetUp() override {
        if (!s_glfw) {
            glfwSetErrorCallback([](int, const char* what) { s_glfwError = what; });
            s_glfw = glfwInit();
            if (!s_glfw) GTEST_SKIP() << "no display (run under xvfb-run): " << s_glfwError;
            glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
            glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
            glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
            glfwWindowHint(GLFW_VISIBLE, GLFW_FALSE);
            s_window = glfwCreateWindow(kW, kH, "test", nullptr, nullptr);
            if (!s_window) GTEST_SKIP() << "no OpenGL 3.3 core context: " << s_glfwError;
            glfwMakeContextCurrent(s_window);
            ImGui::CreateContext();
            ImGui::GetIO().IniFilename = nullptr;
            ImGui_ImplGlfw_InitForOpenGL(s_window, false);
            ImGui_ImplOpenGL3_Init("#version 330 core");
        }
        if (!s_window) GTEST_SKIP() << "no window: " << s_glfwError;
        m_window = s_window;
        m_state.status = [this](const std::string& s) { m_messages.push_back(s); };
    }
    void TearDown() override {
        m_canvas.reset(); // GL objects go while the context is current
    }
    OpenRun open() {
        OpenRun run;
        run.snapshot = std::make_shared<RunSnapshot>(loadRunSnapshot(s_run));
        run.tiles = std::make_shared<TileLoader>(s_run);
        return run;
    }
    // One frame: the canvas in a window filling the screen; returns after rendering, before swapping.
    void frame(const OpenRun& run, int64_t layer, int64_t head, const OpenRun* minus = nullptr) {
        ImGui_ImplOpenGL3_NewFrame();
        ImGui_ImplGlfw_NewFrame();
        ImGui::NewFrame();
        ImGui::SetNextWindowPos(ImVec2(0, 0));
        ImGui::SetNextWindowSize(ImVec2(kW, kH));
        ImGui::Begin("heatmap", nullptr, ImGuiWindowFlags_NoDecoration);
        m_canvas->draw(m_state, run, layer, head, minus);
        ImGui::End();
        ImGui::Render();
        int w = 0, h = 0;
        glfwGetFramebufferSize(m_window, &w, &h);
        glViewport(0, 0, w, h);
        glClearColor(0.5f, 0.0f, 0.5f, 1.0f); // a colour no map holds: shows any hole
        glClear(GL_COLOR_BUFFER_BIT);
        ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
    }
    // Frames until every visible tile is drawn at its level (20 s at most).
    void settle(const OpenRun& run, int64_t layer, int64_t head, const OpenRun* minus = nullptr) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        int quiet = 0;
        while (std::chrono::steady_clock::now() < deadline && quiet < 3) {
            frame(run, layer, head, minus);
            glfwSwapBuffers(m_window);
            quiet = m_canvas->hasContent() && m_canvas->tilesPending() == 0 ? quiet + 1 : 0;
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        ASSERT_TRUE(m_canvas->hasContent());
        ASSERT_EQ(m_canvas->tilesPending(), 0u);
        frame(run, layer, head, minus);
        m_pixels.resize(size_t(kW) * kH * 3);
        glPixelStorei(GL_PACK_ALIGNMENT, 1);
        glReadBuffer(GL_BACK);
        glReadPixels(0, 0, kW, kH, GL_RGB, GL_UNSIGNED_BYTE, m_pixels.data());
    }
    // The pixel at screen (x, y), y down.
    std::array<int, 3> pixel(float x, float y) const {
        const size_t at = (size_t(kH - 1 - int(y)) * kW + size_t(x)) * 3;
        return {m_pixels[at], m_pixels[at + 1], m_pixels[at + 2]};
    }
    // Screen position of the centre of token cell (query, key).
    ImVec2 centreOf(int64_t query, int64_t key) const {
        const CamVec p = m_canvas->camera()->tokenToPixel({double(key) + 0.5, double(query) + 0.5});
        const ScreenRect c = m_canvas->canvasRect();
        return ImVec2(c.x0 + 64.0f + float(p.x), c.y0 + 18.0f + float(p.y));
    }

    static inline std::filesystem::path s_run;
    static inline GLFWwindow* s_window = nullptr;
    static inline bool s_glfw = false;
    static inline std::string s_glfwError;
    GLFWwindow* m_window = nullptr;
    ExplorerState m_state;
    std::vector<std::string> m_messages;
    std::unique_ptr<HeatmapCanvas> m_canvas = std::make_unique<HeatmapCanvas>();
    std::vector<unsigned char> m_pixels;
};

// The colour texture holds colormapRgb8 at i/255 and the GPU interpolates between neighbours: adjacent entries of
// these maps differ by at most 4/255 per channel, so interpolation and 8-bit rounding stay within 3.
constexpr int kTolerance = 3;

void expectNear(std::array<int, 3> got, std::array<int, 3> want, const std::string& where) {
    for (int k = 0; k < 3; ++k)
        EXPECT_NEAR(got[size_t(k)], want[size_t(k)], kTolerance) << where << " channel " << k;
}

TEST_F(HeatmapCanvasGl, CellsHaveTheColormapsColoursAndTheMaskAboveTheDiagonal) {
    const OpenRun run = open();
    for (Colormap map : {Colormap::Viridis, Colormap::Magma}) {
        m_canvas->style().colormap = map;
        settle(run, 1, 2);
        if (HasFatalFailure()) return;
        EXPECT_TRUE(m_messages.empty()) << m_messages.front();
        ASSERT_EQ(m_canvas->level(), 0); // 258 tokens in about 760 px: cells of ~3 px
        const ScreenRect cells = m_canvas->cellsRect();
        EXPECT_GT(cells.x1 - cells.x0, 600);
        EXPECT_GT(cells.y1 - cells.y0, 600);
        const double vmax = m_canvas->colourRange().vmax;
        core::RunReader reader(s_run);
        const core::Tile all = reader.tile(1, 2, 0, 0, 0, 258);
        ASSERT_EQ(all.rows, 258);
        float dataMax = 0;
        for (float v : all.values)
            dataMax = std::max(dataMax, v);
        EXPECT_FLOAT_EQ(float(vmax), dataMax); // the auto range is the largest value on screen (all of it here)
        int checked = 0;
        for (int64_t q = 0; q < 258; q += 7)
            for (int64_t k = 0; k < 258; k += 11) {
                const ImVec2 p = centreOf(q, k);
                const std::string where = std::string(colormapName(map)) + " cell " + std::to_string(q) + "," +
                                          std::to_string(k);
                if (k > q) {
                    const auto mask = HeatmapRenderer::kMaskColour;
                    expectNear(pixel(p.x, p.y),
                               {int(std::lround(mask[0] * 255)), int(std::lround(mask[1] * 255)),
                                int(std::lround(mask[2] * 255))},
                               where);
                } else {
                    const float v = all.values[size_t(q * 258 + k)];
                    expectNear(pixel(p.x, p.y), colormapRgb8(map, float(scaleLinear(v, vmax))), where);
                }
                ++checked;
            }
        EXPECT_GT(checked, 700);
    }
}

TEST_F(HeatmapCanvasGl, DifferenceOfARunWithItselfIsNeutral) {
    const OpenRun a = open(), b = open();
    settle(a, 0, 0, &b);
    if (HasFatalFailure()) return;
    EXPECT_TRUE(m_canvas->colourRange().difference);
    float mid[3];
    divergingRgb(0.5, mid);
    for (int64_t q = 3; q < 258; q += 17)
        for (int64_t k = 0; k <= q; k += 13) {
            const ImVec2 p = centreOf(q, k);
            expectNear(pixel(p.x, p.y),
                       {int(std::lround(mid[0] * 255)), int(std::lround(mid[1] * 255)), int(std::lround(mid[2] * 255))},
                       "cell " + std::to_string(q) + "," + std::to_string(k));
        }
}

TEST_F(HeatmapCanvasGl, RowScaleMakesEachRowsMaximumTheTopColour) {
    const OpenRun run = open();
    m_canvas->style().scale = HeatmapScale::Row;
    settle(run, 2, 1);
    if (HasFatalFailure()) return;
    core::RunReader reader(s_run);
    const core::Tile all = reader.tile(2, 1, 0, 0, 0, 258);
    for (int64_t q = 0; q < 258; q += 9) {
        const float* row = all.values.data() + q * 258;
        const int64_t top = std::max_element(row, row + q + 1) - row;
        expectNear(pixel(centreOf(q, top).x, centreOf(q, top).y), colormapRgb8(Colormap::Viridis, 1.0f),
                   "row " + std::to_string(q));
    }
}

TEST_F(HeatmapCanvasGl, ZoomedInViewDrawsWithoutHoles) {
    const OpenRun run = open();
    settle(run, 0, 1);
    if (HasFatalFailure()) return;
    m_canvas->camera()->zoomAbout({400, 400}, 6.0);
    settle(run, 0, 1);
    if (HasFatalFailure()) return;
    // Every pixel of the cells' rectangle is drawn (the clear colour, purple, shows through nowhere).
    const ScreenRect c = m_canvas->cellsRect();
    for (float y = c.y0 + 1; y < c.y1 - 1; y += 13)
        for (float x = c.x0 + 1; x < c.x1 - 1; x += 13) {
            const auto p = pixel(x, y);
            ASSERT_FALSE(p[0] == 128 && p[1] == 0 && p[2] == 128) << x << "," << y;
        }
}

TEST_F(HeatmapCanvasGl, ViewHeatmapDrawsTheSelectedHead) {
    m_state.run = open();
    m_state.layer = 3, m_state.head = 4;
    ViewHeatmap view(m_state);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline && !(view.canvas().hasContent() && !view.canvas().tilesPending())) {
        ImGui_ImplOpenGL3_NewFrame();
        ImGui_ImplGlfw_NewFrame();
        ImGui::NewFrame();
        view.draw();
        ImGui::Render();
        ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
        glfwSwapBuffers(m_window);
    }
    EXPECT_TRUE(view.canvas().hasContent());
    EXPECT_FALSE(view.canvas().cellsRect().empty());
    EXPECT_TRUE(m_messages.empty());
}

} // namespace
} // namespace attnscope::views

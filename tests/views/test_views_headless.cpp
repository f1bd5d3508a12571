// The head grid, text and sentence views drawn for several frames in an ImGui context without any GL backend (font
// atlas built, nothing rendered to a screen), on runs made by the CLI: simulated clicks select and pick heads and
// tokens, the text view's fetch answers the latest request with the same weights as fetchWeights, GQA grouping,
// live metrics with "not yet" cells, 32K tokens drawn by visible lines only, anchors present and absent.
#include "store/run_reader.hpp"
#include "support/cli_runner.hpp"
#include "support/test_paths.hpp"
#include "view_head_grid.hpp"
#include "view_sentences.hpp"
#include "view_text.hpp"

#include <gtest/gtest.h>
#include <imgui.h>

#include <chrono>
#include <cmath>
#include <thread>

using namespace attnscope;
using namespace attnscope::views;

namespace {

struct Fixture {
    std::filesystem::path demo, anchors;
    Fixture() {
        const auto dir = test::scratchDir("views_headless");
        const auto res = test::resourcesDir();
        demo = dir / "demo.attn.h5", anchors = dir / "anchors.attn.h5";
        test::CliResult r = test::runCli({"capture", (res / "models/organism").string(), "--prompt-file",
                                          (res / "prompts/demo_story.txt").string(), "--out", demo.string()});
        EXPECT_EQ(r.code, 0) << r.err;
        r = test::runCli({"anchors", (res / "models/organism").string(), "--trace",
                          (res / "prompts/anchors_story.txt").string(), "--out", anchors.string()});
        EXPECT_EQ(r.code, 0) << r.err;
    }
};

const Fixture& fixture() {
    static const Fixture f;
    return f;
}

OpenRun openRun(const std::filesystem::path& path) {
    return {std::make_shared<const RunSnapshot>(loadRunSnapshot(path)), nullptr};
}

// A context with a built font atlas and no renderer: NewFrame/Render work, nothing is drawn to a screen.
class Headless {
public:
    Headless() {
        m_context = ImGui::CreateContext();
        ImGuiIO& io = ImGui::GetIO();
        io.DisplaySize = ImVec2(1400, 900);
        io.IniFilename = nullptr;
        io.DeltaTime = 1.0f / 60.0f;
        unsigned char* pixels = nullptr;
        int w = 0, h = 0;
        io.Fonts->GetTexDataAsRGBA32(&pixels, &w, &h);
    }
    ~Headless() { ImGui::DestroyContext(m_context); }

    // One frame with the view's window placed at (20, 20) with the given size.
    void frame(ViewBase& view, ImVec2 size = ImVec2(900, 700)) {
        ImGui::NewFrame();
        ImGui::SetWindowPos(view.name().c_str(), ImVec2(20, 20));
        ImGui::SetWindowSize(view.name().c_str(), size);
        view.draw();
        ImGui::Render();
    }
    // Moves the mouse to (x, y), presses and releases the left button over three frames (ctrl held when asked).
    void click(ViewBase& view, float x, float y, bool ctrl = false) {
        ImGuiIO& io = ImGui::GetIO();
        io.MousePos = ImVec2(x, y);
        frame(view);
        io.KeyCtrl = ctrl;
        io.MouseDown[0] = true;
        frame(view);
        io.MouseDown[0] = false;
        frame(view);
        io.KeyCtrl = false;
        io.MousePos = ImVec2(-1, -1);
        frame(view);
    }

private:
    ImGuiContext* m_context = nullptr;
};

TEST(ViewsHeadless, GridClickSelectsCtrlClickPicks) {
    ExplorerState state;
    state.run = openRun(fixture().demo);
    ViewHeadGrid grid(state);
    Headless ui;
    for (int i = 0; i < 3; ++i)
        ui.frame(grid);
    ASSERT_NE(grid.shownMetric(), nullptr);
    const GridRect all = grid.cellsScreenRect();
    EXPECT_GT(all.width(), 8 * 3);
    EXPECT_EQ(grid.layout().layers(), 4);
    EXPECT_EQ(grid.layout().heads(), 8);
    const GridRect c = grid.cellScreenRect(2, 5);
    ui.click(grid, (c.x0 + c.x1) / 2, (c.y0 + c.y1) / 2);
    EXPECT_EQ(state.layer, 2);
    EXPECT_EQ(state.head, 5);
    const GridRect d = grid.cellScreenRect(3, 1);
    ui.click(grid, (d.x0 + d.x1) / 2, (d.y0 + d.y1) / 2, true);
    EXPECT_EQ(state.layer, 2); // ctrl-click picks without selecting
    EXPECT_TRUE(state.isPicked(3, 1));
    ui.click(grid, (d.x0 + d.x1) / 2, (d.y0 + d.y1) / 2, true);
    EXPECT_FALSE(state.isPicked(3, 1));
    // A click in the 1 px gap between two cells selects nothing.
    const GridRect e = grid.cellScreenRect(0, 0);
    ui.click(grid, e.x1 + 0.5f, (e.y0 + e.y1) / 2);
    EXPECT_EQ(state.layer, 2);
    EXPECT_EQ(state.head, 5);
}

TEST(ViewsHeadless, GridShowsLiveMetricAndGqaGroups) {
    // A snapshot made here: 3 layers x 8 heads on 2 KV heads, no file behind it (the grid reads only the snapshot).
    auto s = std::make_shared<RunSnapshot>();
    s->model.nLayers = 3, s->model.nHeads = 8, s->model.nKvHeads = 2;
    s->metrics.push_back({"stats/x", std::vector<double>(24, 1.0), 0, 2});
    ExplorerState state;
    state.run.snapshot = s;
    HeadMetric live{"sweep/delta_loss", std::vector<double>(24, NAN)};
    live.values[5] = 0.25;
    state.liveMetrics.push_back(live);
    state.metric = "sweep/delta_loss";
    ViewHeadGrid grid(state);
    Headless ui;
    for (int i = 0; i < 3; ++i)
        ui.frame(grid);
    ASSERT_NE(grid.shownMetric(), nullptr);
    EXPECT_EQ(grid.shownMetric()->name, "sweep/delta_loss");
    EXPECT_TRUE(grid.layout().grouped());
    EXPECT_EQ(grid.layout().groupSize(), 4);
    EXPECT_GT(grid.cellScreenRect(0, 4).x0 - grid.cellScreenRect(0, 3).x1, grid.layout().options().gap);
    // The sweep fills in between frames.
    state.liveMetrics[0].values[6] = 0.5;
    ui.frame(grid);
    EXPECT_EQ(grid.shownMetric()->values[6], 0.5);
    const GridRect c = grid.cellScreenRect(1, 6);
    ui.click(grid, c.x0 + 1, c.y0 + 1);
    EXPECT_EQ(state.layer, 1);
    EXPECT_EQ(state.head, 6);
}

// Frames until the text view's fetch answers its latest request (at most 5 s).
void settle(Headless& ui, ViewText& view) {
    // The first frame makes the view ask for what changed since its last frame.
    for (int i = 0; i < 2500; ++i) {
        ui.frame(view);
        if (view.fetch().current() && !view.fetch().busy()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

TEST(ViewsHeadless, TextClickSelectsTokenAndShadesItsRow) {
    ExplorerState state;
    state.run = openRun(fixture().demo);
    state.layer = 1, state.head = 3;
    ViewText view(state);
    Headless ui;
    for (int i = 0; i < 3; ++i)
        ui.frame(view);
    EXPECT_EQ(view.fetch().latest(), nullptr); // no token yet: nothing asked
    std::array<float, 4> r{};
    ASSERT_TRUE(view.tokenScreenRect(12, r));
    ui.click(view, (r[0] + r[2]) / 2, (r[1] + r[3]) / 2);
    EXPECT_EQ(state.token, 12);
    settle(ui, view);
    ASSERT_TRUE(view.fetch().current()) << view.fetch().error();
    core::RunReader reader(fixture().demo);
    const auto* got = view.fetch().latest();
    EXPECT_EQ(got->weights, fetchWeights(reader, {fixture().demo, {{1, 3}}, 12, ShadeDirection::FromSelected}));

    // Column of the mean of two picked heads.
    state.picked = {{0, 1}, {2, 2}};
    view.meanOfPicked() = true;
    view.options().direction = ShadeDirection::ToSelected;
    settle(ui, view);
    ASSERT_TRUE(view.fetch().current()) << view.fetch().error();
    EXPECT_EQ(view.fetch().latest()->weights,
              fetchWeights(reader, {fixture().demo, {{0, 1}, {2, 2}}, 12, ShadeDirection::ToSelected}));
    const auto& w = view.fetch().latest()->weights;
    for (int64_t t = 0; t < 12; ++t)
        EXPECT_EQ(w[size_t(t)], 0.0f) << t; // earlier queries cannot see token 12
}

TEST(ViewsHeadless, ThirtyTwoThousandTokensDrawOnlyVisibleLines) {
    auto s = std::make_shared<RunSnapshot>();
    s->path = "/nonexistent/long.attn.h5";
    s->model.nLayers = 1, s->model.nHeads = 1, s->model.nKvHeads = 1;
    const int64_t T = 32768;
    for (int64_t i = 0; i < T; ++i) {
        const std::string piece = i % 17 == 16 ? " word.\n" : " word";
        s->tokens.ids.push_back(int32_t(i % 100));
        s->tokens.spans.push_back({int64_t(s->tokens.text.size()), int64_t(s->tokens.text.size() + piece.size())});
        s->tokens.text += piece;
        s->tokens.pieces.push_back(piece);
    }
    ExplorerState state;
    state.run.snapshot = s;
    ViewText view(state);
    Headless ui;
    ui.frame(view); // lays the tokens out once
    EXPECT_GT(view.lineStarts().size(), size_t(T / 17));
    state.token = 30000; // selected elsewhere: the view scrolls to it
    const auto start = std::chrono::steady_clock::now();
    constexpr int kFrames = 20;
    for (int i = 0; i < kFrames; ++i)
        ui.frame(view);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::array<float, 4> r{};
    EXPECT_TRUE(view.tokenScreenRect(30000, r));
    EXPECT_FALSE(view.tokenScreenRect(10, r));
    // A frame that drew all 32K tokens takes tens of ms here; visible lines only take well under one (16 ms is one
    // 60 Hz frame: a loose bound for a shared 2-core machine).
    EXPECT_LT(ms / kFrames, 16.0);
    // The fetch for a missing file fails with a message naming it, and the view keeps drawing.
    for (int i = 0; i < 500 && view.fetch().busy(); ++i) {
        ui.frame(view);
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    EXPECT_NE(view.fetch().error().find("long.attn.h5"), std::string::npos) << view.fetch().error();
}

TEST(ViewsHeadless, SentencesWithAnchors) {
    ExplorerState state;
    state.run = openRun(fixture().anchors);
    ViewSentences view(state);
    Headless ui;
    for (int i = 0; i < 3; ++i)
        ui.frame(view, ImVec2(1200, 800));
    const SentenceData& d = view.data();
    ASSERT_TRUE(d.ok);
    EXPECT_EQ(d.sentences, 11);
    EXPECT_EQ(d.matrices.size(), size_t(d.layers * d.heads * 11 * 11));
    EXPECT_FALSE(d.receivers.empty());
    EXPECT_FALSE(d.suppression.empty());
    EXPECT_EQ(view.arcs().size(), size_t(view.topLinks()));
    for (const auto& a : view.arcs())
        EXPECT_GT(a.from, a.to);
    view.topLinks() = 3;
    view.matrix() = ViewSentences::Matrix::Suppression;
    ui.frame(view, ImVec2(1200, 800));
    EXPECT_EQ(view.arcs().size(), 3u);
    view.matrix() = ViewSentences::Matrix::SelectedHead;
    state.layer = d.receivers[0].first, state.head = d.receivers[0].second;
    ui.frame(view, ImVec2(1200, 800));
    EXPECT_LE(view.arcs().size(), 3u);
}

TEST(ViewsHeadless, SentencesWithoutAnchorsSaySo) {
    ExplorerState state;
    state.run = openRun(fixture().demo);
    ViewSentences view(state);
    Headless ui;
    for (int i = 0; i < 2; ++i)
        ui.frame(view);
    EXPECT_FALSE(view.data().ok);
    EXPECT_TRUE(view.arcs().empty());
}

TEST(ViewsHeadless, NoRunDrawsAHint) {
    ExplorerState state;
    ViewHeadGrid grid(state);
    ViewText text(state);
    ViewSentences sentences(state);
    Headless ui;
    ui.frame(grid);
    ui.frame(text);
    ui.frame(sentences);
    EXPECT_EQ(grid.cellsScreenRect().width(), 0);
}

} // namespace

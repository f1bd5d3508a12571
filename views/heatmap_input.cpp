// HeatmapCanvas's mouse and keyboard: drag pans, shift-drag box-zooms, wheel and +/- zoom about the cursor (or the
// centre), arrows step, 0/Home reset, ctrl-z/ctrl-y undo/redo, a click selects a token (ctrl: the key's).
#include "heatmap_axes.hpp"
#include "heatmap_canvas.hpp"

#include <imgui.h>

#include <cmath>

namespace attnscope::views {

namespace {
constexpr float kClickPx = 3.0f;        // a press that moved less than this is a click, not a drag
constexpr double kWheelStep = 1.2;      // zoom factor per wheel notch
constexpr double kWheelCoalesceS = 0.4; // wheel notches closer than this are one undo step
} // namespace

void HeatmapCanvas::handleInput(ExplorerState& state, const OpenRun& run, bool hovered) {
    ImGuiIO& io = ImGui::GetIO();
    HeatmapCamera& cam = *m_camera;
    const ImVec2 lo(m_canvasRect.x0 + kAxisLeftPx, m_canvasRect.y0 + kAxisTopPx);
    const CamVec mouse{io.MousePos.x - lo.x, io.MousePos.y - lo.y};

    if (ImGui::IsItemActivated()) {
        m_pressX = io.MousePos.x, m_pressY = io.MousePos.y;
        m_boxing = io.KeyShift;
        if (!m_boxing) pushHistory();
    }
    if (ImGui::IsItemActive() && !m_boxing && (io.MouseDelta.x != 0 || io.MouseDelta.y != 0))
        cam.pan(io.MouseDelta.x, io.MouseDelta.y);
    if (ImGui::IsItemDeactivated()) {
        const float moved = std::hypot(io.MousePos.x - m_pressX, io.MousePos.y - m_pressY);
        if (m_boxing && moved >= kClickPx) {
            pushHistory();
            cam.boxZoom({m_pressX - lo.x, m_pressY - lo.y}, mouse);
        } else if (moved < kClickPx) {
            if (!m_undo.empty() && m_undo.back() == cam.state()) m_undo.pop_back(); // a click changed no view
            const CamVec t = cam.pixelToToken(mouse);
            const int64_t T = run.snapshot->tokenCount();
            const double pick = io.KeyCtrl ? t.x : t.y;
            if (mouse.x >= 0 && mouse.y >= 0 && pick >= 0 && pick < double(T)) state.token = int64_t(pick);
        }
        m_boxing = false;
    }
    if (hovered && io.MouseWheel != 0) {
        const double now = ImGui::GetTime();
        if (now - m_lastWheelTime > kWheelCoalesceS) pushHistory();
        m_lastWheelTime = now;
        cam.zoomAbout(mouse, std::pow(kWheelStep, double(io.MouseWheel)));
    }

    if (!ImGui::IsWindowFocused() || io.WantTextInput) return;
    const CamVec centre{cam.width() / 2, cam.height() / 2};
    const CamVec at = hovered ? mouse : centre;
    auto pressed = [](ImGuiKey key) { return ImGui::IsKeyPressed(ImGui::GetKeyIndex(key)); };
    if (io.KeyCtrl && pressed(ImGuiKey_Z)) io.KeyShift ? (void)redo() : (void)undo();
    if (io.KeyCtrl && pressed(ImGuiKey_Y)) redo();
    if (io.KeyCtrl) return;
    const int dx = pressed(ImGuiKey_RightArrow) - pressed(ImGuiKey_LeftArrow);
    const int dy = pressed(ImGuiKey_DownArrow) - pressed(ImGuiKey_UpArrow);
    if (dx || dy) {
        pushHistory();
        cam.step(dx, dy);
    }
    if (pressed(ImGuiKey_Home)) resetView();
    // Typed characters, so that + and - work on every keyboard layout and on the keypad.
    for (ImWchar c : io.InputQueueCharacters) {
        if (c == '+' || c == '=') pushHistory(), cam.zoomAbout(at, 1.5);
        else if (c == '-' || c == '_') pushHistory(), cam.zoomAbout(at, 1 / 1.5);
        else if (c == '0') resetView();
    }
}

} // namespace attnscope::views

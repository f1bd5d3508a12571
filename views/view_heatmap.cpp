#include "view_heatmap.hpp"

#include "heatmap_axes.hpp"

#include <imgui.h>

#include <algorithm>
#include <cmath>

namespace attnscope::views {

namespace {
constexpr float kBarWidth = 14.0f, kBarLabels = 64.0f;
constexpr const char* kScaleNames[] = {"linear", "log", "row-normalised"};
constexpr const char* kShortcuts = "drag: pan    shift-drag: box zoom\n"
                                   "wheel, + / -: zoom about the cursor\n"
                                   "arrows: pan a tenth of the view\n"
                                   "0 or Home: whole map\n"
                                   "ctrl-z / ctrl-y: undo / redo the view\n"
                                   "click: select the query token (ctrl-click: the key token)";
} // namespace

ViewHeatmap::ViewHeatmap(ExplorerState& state) : ViewBase("Heatmap"), m_state(state) {}

void ViewHeatmap::drawToolbar() {
    const auto& snap = m_state.run.snapshot;
    int layer = int(m_state.layer), head = int(m_state.head);
    ImGui::SetNextItemWidth(90);
    if (ImGui::InputInt("layer", &layer)) m_state.layer = std::clamp<int64_t>(layer, 0, std::max<int64_t>(0, snap->layers() - 1));
    ImGui::SameLine();
    ImGui::SetNextItemWidth(90);
    if (ImGui::InputInt("head", &head)) m_state.head = std::clamp<int64_t>(head, 0, std::max<int64_t>(0, snap->heads() - 1));
    HeatmapStyle& style = m_canvas.style();
    ImGui::SameLine();
    ImGui::SetNextItemWidth(90);
    if (ImGui::BeginCombo("##colormap", std::string(colormapName(style.colormap)).c_str())) {
        for (size_t i = 0; i < kColormapNames.size(); ++i)
            if (ImGui::Selectable(std::string(kColormapNames[i]).c_str(), size_t(style.colormap) == i))
                style.colormap = Colormap(i);
        ImGui::EndCombo();
    }
    ImGui::SameLine();
    ImGui::SetNextItemWidth(130);
    int scale = int(style.scale);
    if (ImGui::Combo("##scale", &scale, kScaleNames, 3)) style.scale = HeatmapScale(scale);
    ImGui::SameLine();
    ImGui::Checkbox("max cell", &style.cellMax);
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("Coarse cells show their largest weight instead of the mean (sinks and peaks stay visible).");
    ImGui::SameLine();
    ImGui::TextDisabled("(?)");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", kShortcuts);
    ImGui::SameLine();
    const auto& cam = *m_canvas.camera();
    const int level = m_canvas.level();
    ImGui::TextDisabled("%lld tokens, %s, %.3g tokens/px%s", (long long)snap->tokenCount(),
                        level == 0 ? "cells of 1 token" : ("cells of " + std::to_string(1LL << level) + " tokens").c_str(),
                        cam.tokensPerPixel(), m_canvas.tilesPending() ? ", loading" : "");
}

void ViewHeatmap::drawContent() {
    if (!m_state.run) {
        ImGui::TextDisabled("No run is open.");
        return;
    }
    drawToolbar();
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    const float canvasW = std::max(64.0f, avail.x - kBarWidth - kBarLabels - 8);
    m_canvas.draw(m_state, m_state.run, m_state.layer, m_state.head, nullptr, canvasW, std::max(64.0f, avail.y));
    const ScreenRect c = m_canvas.canvasRect();
    const float top = c.y0 + kAxisTopPx;
    drawColourBar(ImGui::GetWindowDrawList(), ImVec2(c.x1 + 8, top),
                  ImVec2(c.x1 + 8 + kBarWidth, top + std::min(240.0f, c.y1 - top)), m_canvas.colourRange());
}

std::optional<FigureRequest> ViewHeatmap::figureRequest() const {
    if (!m_state.run) return std::nullopt;
    FigureRequest r;
    if (!m_canvas.describeView(m_state.run.snapshot->tokenCount(), r)) return std::nullopt;
    r.view = "heatmap";
    r.run = m_state.run.snapshot->path;
    r.layer = m_state.layer, r.head = m_state.head;
    r.stem = figureStem(r.run, "heatmap_L" + std::to_string(r.layer) + "H" + std::to_string(r.head));
    return r;
}

} // namespace attnscope::views

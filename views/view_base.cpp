#include "view_base.hpp"

#include <imgui.h>

namespace attnscope::views {

void ViewBase::draw() {
    if (!m_open) return;
    ImGui::SetNextWindowPos(ImVec2(m_placement.x, m_placement.y), ImGuiCond_FirstUseEver);
    ImGui::SetNextWindowSize(ImVec2(m_placement.width, m_placement.height), ImGuiCond_FirstUseEver);
    const bool visible = ImGui::Begin(m_name.c_str(), &m_open);
    drawTitleMenu();
    if (visible) drawContent();
    // ImGui requires End() even when Begin() returns false (collapsed window).
    ImGui::End();
}

void ViewBase::drawTitleMenu() {
    if (!m_export) return;
    // Right after Begin() the last item is the title bar: its context menu.
    if (!ImGui::BeginPopupContextItem("##view-menu")) return;
    const std::optional<FigureRequest> request = figureRequest();
    if (ImGui::MenuItem("Export figure...", nullptr, false, request.has_value())) m_export(*request);
    ImGui::EndPopup();
}

} // namespace attnscope::views

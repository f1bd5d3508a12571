#include "view_base.hpp"

#include <imgui.h>

namespace attnscope::views {

void ViewBase::draw() {
    if (!m_open) return;
    ImGui::SetNextWindowPos(ImVec2(m_placement.x, m_placement.y), ImGuiCond_FirstUseEver);
    ImGui::SetNextWindowSize(ImVec2(m_placement.width, m_placement.height), ImGuiCond_FirstUseEver);
    if (ImGui::Begin(m_name.c_str(), &m_open)) drawContent();
    // ImGui requires End() even when Begin() returns false (collapsed window).
    ImGui::End();
}

} // namespace attnscope::views

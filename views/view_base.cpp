#include "view_base.hpp"

#include <imgui.h>

namespace attnscope::views {

void ViewBase::draw() {
    if (!m_open) return;
    if (ImGui::Begin(m_name.c_str(), &m_open)) drawContent();
    // ImGui requires End() even when Begin() returns false (collapsed window).
    ImGui::End();
}

} // namespace attnscope::views

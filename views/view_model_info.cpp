#include "view_model_info.hpp"

#include <imgui.h>

namespace attnscope::views {

void ViewModelInfo::drawContent() {
    if (m_rows.empty()) {
        ImGui::TextUnformatted("No model loaded. Run: attnscope MODEL");
        return;
    }
    if (ImGui::BeginTable("model", 2, ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV)) {
        for (const auto& [label, value] : m_rows) {
            ImGui::TableNextRow();
            ImGui::TableSetColumnIndex(0);
            ImGui::TextUnformatted(label.c_str());
            ImGui::TableSetColumnIndex(1);
            ImGui::TextUnformatted(value.c_str());
        }
        ImGui::EndTable();
    }
}

} // namespace attnscope::views

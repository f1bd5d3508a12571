#include "distribution_table.hpp"

#include <fmt/format.h>
#include <imgui.h>

#include <cmath>

namespace attnscope::views {

void drawDistributionTable(const std::vector<DistributionRow>& rows, const std::function<std::string(int32_t)>& label) {
    if (!ImGui::BeginTable("next", 3, ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV)) return;
    ImGui::TableSetupColumn("next token");
    ImGui::TableSetupColumn("before");
    ImGui::TableSetupColumn("after");
    ImGui::TableHeadersRow();
    for (const auto& row : rows) {
        ImGui::TableNextRow();
        ImGui::TableSetColumnIndex(0);
        ImGui::TextUnformatted(label(row.id).c_str());
        for (int c = 0; c < 2; ++c) {
            ImGui::TableSetColumnIndex(1 + c);
            const float v = c == 0 ? row.before : row.after;
            if (std::isnan(v))
                ImGui::TextDisabled("-");
            else
                ImGui::ProgressBar(v, ImVec2(-1, 0), fmt::format("{:.1f} %", 100.0 * v).c_str());
        }
    }
    ImGui::EndTable();
}

} // namespace attnscope::views

#include "view_open_dialog.hpp"

#include <imgui.h>

#include <algorithm>
#include <array>
#include <system_error>

namespace attnscope::views {

namespace {
constexpr const char* kPopup = "Open run or model";
}

bool isModelPath(const std::filesystem::path& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) return std::filesystem::exists(path / "config.json", ec);
    return path.extension() == ".gguf";
}

bool isOpenable(const std::filesystem::path& path) {
    return isModelPath(path) || path.extension() == ".h5";
}

void ViewOpenDialog::show(const std::filesystem::path& folder) {
    list(folder);
    m_requestOpen = true;
}

void ViewOpenDialog::list(const std::filesystem::path& folder) {
    std::error_code ec;
    m_folder = std::filesystem::absolute(folder, ec).lexically_normal();
    m_pathText = m_folder.string();
    m_entries.clear();
    m_error.clear();
    for (std::filesystem::directory_iterator it(m_folder, ec), end; !ec && it != end; it.increment(ec)) {
        const auto& p = it->path();
        if (p.filename().string().starts_with(".")) continue;
        const bool folder = it->is_directory(ec);
        const bool openable = isOpenable(p);
        if (folder || openable) m_entries.push_back({p.filename().string(), folder, openable});
    }
    if (ec) m_error = "Cannot list folder '" + m_folder.string() + "': " + ec.message() + ".";
    std::sort(m_entries.begin(), m_entries.end(), [](const Entry& a, const Entry& b) {
        return a.folder != b.folder ? a.folder : a.name < b.name;
    });
}

void ViewOpenDialog::draw() {
    if (m_requestOpen) {
        ImGui::OpenPopup(kPopup);
        m_requestOpen = false;
    }
    ImGui::SetNextWindowSize(ImVec2(640, 440), ImGuiCond_Appearing);
    if (!ImGui::BeginPopupModal(kPopup, nullptr)) return;
    std::array<char, 4096> buffer{};
    m_pathText.copy(buffer.data(), buffer.size() - 1);
    ImGui::SetNextItemWidth(-80);
    const bool entered = ImGui::InputText("##path", buffer.data(), buffer.size(), ImGuiInputTextFlags_EnterReturnsTrue);
    m_pathText = buffer.data();
    ImGui::SameLine();
    std::filesystem::path chosen;
    if (ImGui::Button("Open") || entered) {
        const std::filesystem::path p(m_pathText);
        std::error_code ec;
        if (isOpenable(p))
            chosen = p;
        else if (std::filesystem::is_directory(p, ec))
            list(p);
        else
            m_error = "'" + m_pathText + "' is neither a run file (.h5) nor a model folder (config.json) nor .gguf.";
    }
    if (!m_error.empty()) ImGui::TextColored(ImVec4(1, 0.45f, 0.4f, 1), "%s", m_error.c_str());
    ImGui::BeginChild("entries", ImVec2(0, -ImGui::GetFrameHeightWithSpacing()), true);
    if (m_folder.has_parent_path() && ImGui::Selectable("..", false, ImGuiSelectableFlags_AllowDoubleClick) &&
        ImGui::IsMouseDoubleClicked(0))
        list(m_folder.parent_path());
    for (const Entry& e : std::vector<Entry>(m_entries)) {
        const std::string label = (e.folder && !e.openable ? "[dir] " : e.folder ? "[model] " : "") + e.name;
        if (ImGui::Selectable(label.c_str(), false, ImGuiSelectableFlags_AllowDoubleClick)) {
            m_pathText = (m_folder / e.name).string();
            if (ImGui::IsMouseDoubleClicked(0)) {
                if (e.openable)
                    chosen = m_folder / e.name;
                else
                    list(m_folder / e.name);
            }
        }
    }
    ImGui::EndChild();
    if (ImGui::Button("Cancel")) ImGui::CloseCurrentPopup();
    if (!chosen.empty()) {
        ImGui::CloseCurrentPopup();
        m_onChoose(chosen);
    }
    ImGui::EndPopup();
}

} // namespace attnscope::views

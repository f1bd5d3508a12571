#include "view_export_dialog.hpp"

#include <imgui.h>

#include <algorithm>
#include <cstring>

namespace attnscope::views {

namespace {

constexpr const char* kFormats[] = {"png", "svg", "pdf"};

void setText(std::array<char, 1024>& buffer, const std::string& text) {
    const size_t n = std::min(text.size(), buffer.size() - 1);
    std::memcpy(buffer.data(), text.data(), n);
    buffer[n] = '\0';
}

} // namespace

void ViewExportDialog::show(FigureRequest request, const std::filesystem::path& folder) {
    setText(m_path, (folder / (request.stem + "." + kFormats[m_format])).string());
    m_request = std::move(request);
    m_openPopup = true;
}

void ViewExportDialog::start(FigureRequest request, std::filesystem::path out, double dpi) {
    if (!m_exporter || m_job) return;
    m_out = out;
    m_job = std::make_unique<core::BackgroundJob<int>>(
        [exporter = m_exporter, request = std::move(request), out = std::move(out), dpi](core::Progress&) {
            exporter(request, out, dpi);
            return 1;
        });
}

void ViewExportDialog::draw(const std::function<void(const std::string&, bool)>& status) {
    if (m_job && m_job->ready()) {
        if (m_job->succeeded())
            status("Exported the figure to '" + m_out.string() + "'.", false);
        else
            status(m_job->error(), true);
        m_job.reset();
    }
    if (m_openPopup) {
        ImGui::OpenPopup("Export figure");
        m_openPopup = false;
    }
    if (!ImGui::BeginPopupModal("Export figure", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) return;
    if (m_request) ImGui::TextDisabled("%s of %s", m_request->view.c_str(), m_request->run.filename().string().c_str());
    ImGui::SetNextItemWidth(520);
    ImGui::InputText("file", m_path.data(), m_path.size());
    ImGui::SetNextItemWidth(120);
    if (ImGui::Combo("format", &m_format, kFormats, 3)) {
        std::filesystem::path p(m_path.data());
        setText(m_path, p.replace_extension(kFormats[m_format]).string());
    }
    if (m_format == 0) {
        ImGui::SameLine();
        ImGui::SetNextItemWidth(120);
        ImGui::InputFloat("DPI", &m_dpi, 24, 96, "%.0f");
        m_dpi = std::clamp(m_dpi, 24.0f, 1200.0f);
    } else {
        ImGui::SameLine();
        ImGui::TextDisabled("vector, fonts embedded");
    }
    ImGui::BeginDisabled(busy() || !m_request);
    if (ImGui::Button("Export")) {
        start(*m_request, std::filesystem::path(m_path.data()), m_dpi);
        ImGui::CloseCurrentPopup();
    }
    ImGui::EndDisabled();
    ImGui::SameLine();
    if (ImGui::Button("Cancel") || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape))) ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
}

} // namespace attnscope::views

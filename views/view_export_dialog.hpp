#pragma once
// "Export figure...": a modal that takes a file (PNG, SVG or PDF, and a DPI for PNG) for a view's FigureRequest and
// renders it on a background thread through the app's FigureExporter, so the window keeps drawing; the outcome goes
// to the status bar. UI thread only.
#include "figure_request.hpp"
#include "jobs/background_job.hpp"

#include <array>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace attnscope::views {

class ViewExportDialog {
public:
    void setExporter(FigureExporter exporter) { m_exporter = std::move(exporter); }
    bool available() const { return bool(m_exporter); }

    // Opens the modal for `request`, suggesting `folder`/<stem>.png.
    void show(FigureRequest request, const std::filesystem::path& folder);
    // Exports without asking (scripts); the extension picks the format.
    void start(FigureRequest request, std::filesystem::path out, double dpi);
    // Draws the modal while it is open and reports a finished export: status(message, isError).
    void draw(const std::function<void(const std::string&, bool)>& status);
    bool busy() const { return m_job != nullptr; }

private:
    FigureExporter m_exporter;
    std::optional<FigureRequest> m_request; // the modal's
    bool m_openPopup = false;
    std::array<char, 1024> m_path{};
    int m_format = 0; // png, svg, pdf
    float m_dpi = 192;
    std::filesystem::path m_out;
    std::unique_ptr<core::BackgroundJob<int>> m_job;
};

} // namespace attnscope::views

#include "explorer_settings.hpp"

#include "errors.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <system_error>

namespace attnscope::views {

void ExplorerSettings::addRecent(const std::string& path) {
    std::erase(recentFiles, path);
    recentFiles.insert(recentFiles.begin(), path);
    if (recentFiles.size() > kMaxRecent) recentFiles.resize(kMaxRecent);
}

std::filesystem::path settingsFolder() {
    std::filesystem::path dir;
    if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg)
        dir = std::filesystem::path(xdg) / "attnscope";
    else if (const char* home = std::getenv("HOME"); home && *home)
        dir = std::filesystem::path(home) / ".config" / "attnscope";
    else
        return {};
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    return dir;
}

ExplorerSettings loadSettings(const std::filesystem::path& file, std::string* warning) {
    ExplorerSettings s;
    std::ifstream in(file);
    if (!in) return s;
    try {
        const auto j = nlohmann::json::parse(in);
        ExplorerSettings r;
        for (const auto& f : j.value("recent_files", std::vector<std::string>{}))
            if (r.recentFiles.size() < ExplorerSettings::kMaxRecent) r.recentFiles.push_back(f);
        r.modelPath = j.value("model", std::string());
        r.metric = j.value("metric", std::string());
        r.colormap = j.value("colormap", s.colormap);
        r.windowWidth = std::clamp(j.value("window_width", s.windowWidth), 320, 16384);
        r.windowHeight = std::clamp(j.value("window_height", s.windowHeight), 240, 16384);
        return r;
    } catch (const nlohmann::json::exception&) {
        if (warning) *warning = "Settings file '" + file.string() + "' is not valid JSON; using the defaults.";
        return s;
    }
}

void saveSettings(const ExplorerSettings& s, const std::filesystem::path& file) {
    const nlohmann::json j = {{"recent_files", s.recentFiles}, {"model", s.modelPath},
                              {"metric", s.metric},           {"colormap", s.colormap},
                              {"window_width", s.windowWidth}, {"window_height", s.windowHeight}};
    const std::filesystem::path partial = file.string() + ".partial";
    {
        std::ofstream out(partial);
        out << j.dump(2) << "\n";
        if (!out) throw core::FileError("Cannot write settings file '" + file.string() + "'.");
    }
    std::error_code ec;
    std::filesystem::rename(partial, file, ec);
    if (ec) throw core::FileError("Cannot write settings file '" + file.string() + "': " + ec.message() + ".");
}

} // namespace attnscope::views

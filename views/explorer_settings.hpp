#pragma once
// What the explorer remembers between launches: recent files, the model the panels run, the grid metric, the window
// size. Stored as JSON in the user's config folder (written to a temporary name, then renamed). Plain data, no UI.
#include <filesystem>
#include <string>
#include <vector>

namespace attnscope::views {

struct ExplorerSettings {
    std::vector<std::string> recentFiles; // most recent first, at most kMaxRecent, no duplicates
    std::string modelPath;                // empty: the bundled organism
    std::string metric;                   // the grid's metric; empty: the first the run has
    std::string colormap = "viridis";
    int windowWidth = 1600, windowHeight = 1000;

    static constexpr size_t kMaxRecent = 10;
    // Moves `path` to the front (adding it when new) and drops the oldest past kMaxRecent.
    void addRecent(const std::string& path);
};

// $XDG_CONFIG_HOME/attnscope (or ~/.config/attnscope); created when missing. Empty when neither variable is set.
std::filesystem::path settingsFolder();
// Missing file: defaults. A malformed file: defaults too (settings are a convenience, never a reason not to start);
// `warning` then gets one sentence naming the file.
ExplorerSettings loadSettings(const std::filesystem::path& file, std::string* warning = nullptr);
// Throws core::FileError naming the file when it cannot be written.
void saveSettings(const ExplorerSettings& settings, const std::filesystem::path& file);

} // namespace attnscope::views

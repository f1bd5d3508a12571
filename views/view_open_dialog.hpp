#pragma once
// A small file browser for opening run files (*.attn.h5, *.h5) and model folders (config.json inside) or .gguf files:
// a path box, the current folder's entries (folders first), double-click to enter or choose. UI thread only.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace attnscope::views {

class ViewOpenDialog {
public:
    // onChoose gets the chosen path; called from draw().
    explicit ViewOpenDialog(std::function<void(const std::filesystem::path&)> onChoose)
        : m_onChoose(std::move(onChoose)) {}
    void show(const std::filesystem::path& folder);
    void draw();

private:
    struct Entry {
        std::string name;
        bool folder = false, openable = false;
    };
    void list(const std::filesystem::path& folder);

    std::function<void(const std::filesystem::path&)> m_onChoose;
    std::filesystem::path m_folder;
    std::vector<Entry> m_entries;
    std::string m_pathText, m_error;
    bool m_requestOpen = false;
};

// True for what the explorer can open: a run file, a model folder, a .gguf file.
bool isOpenable(const std::filesystem::path& path);
bool isModelPath(const std::filesystem::path& path);

} // namespace attnscope::views

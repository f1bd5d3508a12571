#pragma once
// Read-only memory map of a whole file (RAII). Throws FileError naming the path when it cannot be opened.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace attnscope::core {

class MappedFile {
public:
    explicit MappedFile(const std::filesystem::path& path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const uint8_t* data() const { return m_data; }
    size_t size() const { return m_size; }
    const std::filesystem::path& path() const { return m_path; }

private:
    std::filesystem::path m_path;
    const uint8_t* m_data = nullptr;
    size_t m_size = 0;
};

} // namespace attnscope::core

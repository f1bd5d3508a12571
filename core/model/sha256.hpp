#pragma once
// SHA-256 (FIPS 180-4) of bytes or files, as lower-case hex; used to identify a model's weights in run files.
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace attnscope::core {

// Incremental SHA-256: update() any number of times, then hexDigest() once.
class Sha256 {
public:
    Sha256();
    void update(const void* data, size_t size);
    void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
    // Finishes the hash; the object must not be updated afterwards.
    std::string hexDigest();

private:
    void compress(const uint8_t* block);

    std::array<uint32_t, 8> m_state;
    std::array<uint8_t, 64> m_buffer{};
    size_t m_buffered = 0;
    uint64_t m_totalBytes = 0;
};

// Hex SHA-256 of a whole file (memory-mapped); throws FileError naming the path when it cannot be read.
std::string sha256File(const std::filesystem::path& path);

} // namespace attnscope::core

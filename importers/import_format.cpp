#include "import_format.hpp"

#include "errors.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <fstream>

namespace attnscope::importers {

const char* importFormatName(ImportFormat f) {
    switch (f) {
    case ImportFormat::Npy: return "npy";
    case ImportFormat::Npz: return "npz";
    case ImportFormat::Safetensors: return "safetensors";
    case ImportFormat::Hdf5: return "hdf5";
    case ImportFormat::Json: return "json";
    case ImportFormat::Tsv: return "tsv";
    case ImportFormat::Unknown: break;
    }
    return "unknown";
}

ImportFormat detectImportFormat(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw core::FileError("Cannot open '" + path.string() + "' for import.");
    std::array<char, 16> head{};
    in.read(head.data(), head.size());
    const auto n = static_cast<size_t>(in.gcount());
    auto startsWith = [&](const char* magic, size_t len) { return n >= len && std::memcmp(head.data(), magic, len) == 0; };
    if (startsWith("\x93NUMPY", 6)) return ImportFormat::Npy;
    if (startsWith("PK\x03\x04", 4)) return ImportFormat::Npz;
    if (startsWith("\x89HDF\r\n\x1a\n", 8)) return ImportFormat::Hdf5;
    // safetensors: 8-byte little-endian header length followed by '{'.
    if (n >= 9 && head[8] == '{') return ImportFormat::Safetensors;
    const auto first = std::find_if(head.begin(), head.begin() + n, [](char c) { return !std::isspace(uint8_t(c)); });
    if (first != head.begin() + n && (*first == '{' || *first == '[')) return ImportFormat::Json;
    if (std::find(head.begin(), head.begin() + n, '\t') != head.begin() + n) return ImportFormat::Tsv;
    return ImportFormat::Unknown;
}

} // namespace attnscope::importers

#pragma once
// Recognises foreign attention/score files by their leading bytes (never by extension alone).
#include <filesystem>
#include <string>

namespace attnscope::importers {

enum class ImportFormat { Unknown, Npy, Npz, Safetensors, Hdf5, Json, Tsv };

const char* importFormatName(ImportFormat f);

// Throws core::FileError naming the path when it cannot be read.
ImportFormat detectImportFormat(const std::filesystem::path& path);

} // namespace attnscope::importers

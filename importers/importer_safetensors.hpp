#pragma once
// safetensors dumps of attention tensors (F32, F16, BF16; integer tensors are returned flagged not floating).
#include "imported_array.hpp"

#include <filesystem>
#include <vector>

namespace attnscope::importers {

// Every tensor in name order as the file's header lists them. Throws core's errors naming the file.
std::vector<ImportedArray> readSafetensorsArrays(const std::filesystem::path& path);

} // namespace attnscope::importers

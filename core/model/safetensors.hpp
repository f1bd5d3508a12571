#pragma once
// safetensors files: read (memory-mapped, names as stored) and write (atomically: temp name, then rename).
#include "model/tensor_data.hpp"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace attnscope::core {

// Reads one .safetensors file; `metadata` receives the "__metadata__" entries when given.
TensorSet readSafetensors(const std::filesystem::path& file, std::map<std::string, std::string>* metadata = nullptr);

// Reads model.safetensors.index.json and every shard its weight_map names (each shard mapped once).
TensorSet readSafetensorsIndex(const std::filesystem::path& indexFile);

struct TensorToWrite {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    const void* data = nullptr; // tensorBytes(dtype, numel) bytes, row-major, little-endian
};

// Writes a .safetensors file under a temporary name and renames it into place when complete.
void writeSafetensors(const std::filesystem::path& file, const std::vector<TensorToWrite>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

} // namespace attnscope::core

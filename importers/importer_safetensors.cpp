#include "importer_safetensors.hpp"

#include "model/safetensors.hpp"

namespace attnscope::importers {

std::vector<ImportedArray> readSafetensorsArrays(const std::filesystem::path& path) {
    std::vector<ImportedArray> arrays;
    for (const auto& [name, raw] : core::readSafetensors(path)) {
        ImportedArray a;
        a.origin = path.string() + ":" + name;
        a.name = name;
        a.shape = raw.shape;
        const bool floating = raw.dtype == core::DType::F32 || raw.dtype == core::DType::F16 ||
                              raw.dtype == core::DType::BF16;
        a.floating = floating;
        if (floating) a.values = core::toFloat32(raw);
        arrays.push_back(std::move(a));
    }
    return arrays;
}

} // namespace attnscope::importers

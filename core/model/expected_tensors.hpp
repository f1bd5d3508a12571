#pragma once
// The tensors a ModelConfig needs, by canonical name (see model_files.hpp) with shapes in PyTorch order.
#include "model/model_config.hpp"
#include "model/tensor_data.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace attnscope::core {

struct ExpectedTensor {
    std::string name; // canonical
    std::vector<int64_t> shape;
};

// A canonical name taken apart: "layers.3.wq.bias" -> {3, "wq", "bias"}; "norm.weight" -> {-1, "norm", "weight"}.
struct CanonicalName {
    int64_t layer = -1;
    std::string module;
    std::string param;
};
CanonicalName splitCanonical(std::string_view canonical);

// Every tensor the config implies, in a stable order (embeddings, then layer by layer, then the head).
std::vector<ExpectedTensor> expectedTensors(const ModelConfig& config);

// "[512, 64]"
std::string shapeString(const std::vector<int64_t>& shape);

// The stored tensor `storedName`, checked to exist and to have `shape`; FormatError naming `file` otherwise.
const RawTensor& requireTensor(const TensorSet& stored, const std::string& storedName,
                               const std::vector<int64_t>& shape, const ModelConfig& config, const std::string& file);

// Canonical tensors for formats that only rename (HF Llama family, GGUF): storedName maps canonical to stored names.
TensorSet collectRenamed(const ModelConfig& config, const TensorSet& stored,
                         const std::function<std::string(std::string_view canonical)>& storedName,
                         const std::string& file);

} // namespace attnscope::core

#pragma once
// Hugging Face tensor names and layouts (Llama family, GPT-2 Conv1D) -> the canonical set of model_files.hpp.
#include "model/model_config.hpp"
#include "model/tensor_data.hpp"

#include <string>

namespace attnscope::core {

// `file` names the weights (model.safetensors or the index) in messages. GPT-2's Conv1D weights are transposed into
// owned buffers of the same dtype; everything else stays a view of the mapped file.
TensorSet canonicalHfTensors(const ModelConfig& config, const TensorSet& stored, const std::string& file);

} // namespace attnscope::core

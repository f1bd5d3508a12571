#pragma once
// Hugging Face config.json -> ModelConfig (Llama family, Qwen2, Mistral, GPT-2); throws naming the file and the key.
#include "model/model_config.hpp"

#include <filesystem>

namespace attnscope::core {

// Throws FileError (unreadable), FormatError (bad JSON, missing key, wrong type) or UnsupportedError (architecture,
// rope_scaling kind, biases we do not implement).
ModelConfig parseHfConfig(const std::filesystem::path& configJson);

} // namespace attnscope::core

#pragma once
// A GGUF file's llama.*/qwen2.* metadata and blk.N.* tensors -> ModelConfig and the canonical set of model_files.hpp.
#include "model/model_config.hpp"
#include "model/tensor_data.hpp"

namespace attnscope::core {

class GgufFile;

// Throws FormatError (missing or mistyped key) or UnsupportedError (architecture, rope scaling) naming the file.
ModelConfig ggufModelConfig(const GgufFile& gguf);

// Renames blk.N.attn_q.weight etc. to canonical names, checking presence and shapes against `config`.
TensorSet canonicalGgufTensors(const ModelConfig& config, const GgufFile& gguf);

} // namespace attnscope::core

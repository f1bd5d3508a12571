#pragma once
// Finds and reads a model's files (HF folder or GGUF) into a config, canonically named tensors and a tokenizer.
//
// Canonical tensor names (shapes in PyTorch order [out, in]; D = dModel, F = dFf, V = vocab):
//   tok_embeddings.weight [V, D]            pos_embeddings.weight [P, D] (GPT-2 only)
//   layers.N.attn_norm.weight [D]  (.bias for GPT-2)
//   layers.N.wq.weight [H*d, D]  layers.N.wk.weight [Hkv*d, D]  layers.N.wv.weight [Hkv*d, D]  (.bias if qkvBias)
//   layers.N.wo.weight [D, H*d]  (.bias for GPT-2)
//   layers.N.ffn_norm.weight [D] (.bias for GPT-2)
//   layers.N.w_gate.weight [F, D] (Llama only)  layers.N.w_up.weight [F, D]  layers.N.w_down.weight [D, F]
//   (w_up/w_down .bias for GPT-2)
//   norm.weight [D] (.bias for GPT-2)       lm_head.weight [V, D] (absent when tiedEmbeddings)
// GPT-2's Conv1D weights ([in, out]) are transposed and c_attn is split into wq/wk/wv by the loader.
#include "model/model_config.hpp"
#include "model/tensor_data.hpp"
#include "model/tokenizer.hpp" // complete type: ModelFiles' implicit destructor deletes the tokenizer

#include <filesystem>
#include <memory>
#include <string>

namespace attnscope::core {

struct ModelFiles {
    ModelConfig config;
    TensorSet tensors;                    // canonical names, validated against config
    std::unique_ptr<Tokenizer> tokenizer; // null when the model ships none
    std::string source;                   // the path the user gave
    std::string format;                   // "safetensors", "gguf"
    std::string weightsDtype;             // dtype of the stored weights, e.g. "F32", "BF16", "mixed"
    std::string weightsSha256;            // of the weight file(s), hex; empty unless asked for
};

// path: a Hugging Face folder (config.json + model.safetensors or model.safetensors.index.json) or a .gguf file.
// Throws FileError/FormatError/UnsupportedError with one sentence naming the file and the problem.
ModelFiles loadModelFiles(const std::filesystem::path& path, bool computeSha256 = false);

// Elements in all tensors (a tied classifier is absent from the set, so it is counted once).
int64_t countParameters(const TensorSet& tensors);

} // namespace attnscope::core

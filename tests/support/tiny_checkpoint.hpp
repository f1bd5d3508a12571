#pragma once
// Writes tiny random-weight checkpoints in the exact Hugging Face layout (config.json + safetensors), for tests.
#include "model/tensor_data.hpp"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace attnscope::test {

struct TinySpec {
    std::string modelType = "llama"; // "llama", "qwen2", "mistral", "gpt2"
    int64_t nLayers = 2;
    int64_t dModel = 32;
    int64_t nHeads = 4;
    int64_t nKvHeads = 2;
    int64_t dFf = 64;
    int64_t vocab = 50;
    int64_t maxPositions = 256;
    bool tied = false;
    bool qkvBias = false;            // written for qwen2; always for gpt2
    core::DType dtype = core::DType::F32;
    int shards = 1;                  // >1 writes model.safetensors.index.json and that many shards
    uint32_t seed = 1;
    double scale = 0.2;              // std of the random weights; large enough for non-uniform attention
};

// HF tensor name -> values as stored (already rounded to spec.dtype), row-major in the stored shape.
using TinyWeights = std::map<std::string, std::vector<float>>;

// Writes config.json and the weights into dir (created); returns what was written.
TinyWeights writeTinyCheckpoint(const std::filesystem::path& dir, const TinySpec& spec);

} // namespace attnscope::test

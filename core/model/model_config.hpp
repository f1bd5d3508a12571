#pragma once
// A model's shape and hyper-parameters, whatever file they came from (config.json or GGUF metadata).
#include <cstdint>
#include <optional>
#include <string>

namespace attnscope::core {

enum class Architecture { Llama, Gpt2 };
const char* architectureName(Architecture a);

// How RoPE pairs dimensions: HF Llama rotates halves (i, i+d/2); GGUF/llama2.c rotate adjacent pairs (2i, 2i+1).
enum class RopePairing { Half, Adjacent };

struct RopeScaling {
    std::string type; // "" (none), "linear", "llama3"
    double factor = 1.0;
    double lowFreqFactor = 1.0;            // llama3
    double highFreqFactor = 4.0;           // llama3
    int64_t originalMaxPositions = 8192;   // llama3
};

struct ModelConfig {
    Architecture architecture = Architecture::Llama;
    std::string modelType;   // as the source names it: "llama", "qwen2", "mistral", "gpt2", ...
    int64_t nLayers = 0;
    int64_t nHeads = 0;
    int64_t nKvHeads = 0;
    int64_t headDim = 0;
    int64_t dModel = 0;
    int64_t dFf = 0;         // MLP hidden width
    int64_t vocabSize = 0;
    int64_t maxPositions = 0;
    double normEps = 1e-5;
    double ropeTheta = 10000.0;
    RopePairing ropePairing = RopePairing::Half;
    RopeScaling ropeScaling;
    bool tiedEmbeddings = false;
    bool qkvBias = false;    // Qwen2 and GPT-2 have q/k/v biases
    std::optional<int64_t> bosId;
    std::optional<int64_t> eosId;
};

} // namespace attnscope::core

#pragma once
// Rotary position embedding: frequency table (with linear / llama3 scaling) and its application to q or k.
#include "model/model_config.hpp"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace attnscope::core {

// Inverse frequencies [rotaryDim / 2], HF's _compute_default / linear / llama3 rope parameters, in double.
std::vector<double> ropeInverseFrequencies(const ModelConfig& config, int64_t rotaryDim);

class Rope {
public:
    Rope(const ModelConfig& config, at::Device device);
    // x [heads, T, d] at positions [positionBegin, positionBegin + T); returns rotated x in x's dtype.
    at::Tensor apply(const at::Tensor& x, int64_t positionBegin);

private:
    void ensureLength(int64_t length);

    RopePairing m_pairing;
    std::vector<double> m_invFreq;
    at::Device m_device;
    int64_t m_length = 0;
    at::Tensor m_cos; // [length, d/2] float32
    at::Tensor m_sin;
};

} // namespace attnscope::core

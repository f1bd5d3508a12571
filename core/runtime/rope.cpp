#include "runtime/rope.hpp"

#include "errors.hpp"

#include <ATen/ATen.h>

#include <cmath>
#include <numbers>

namespace attnscope::core {

std::vector<double> ropeInverseFrequencies(const ModelConfig& config, int64_t rotaryDim) {
    std::vector<double> inv(rotaryDim / 2);
    for (size_t i = 0; i < inv.size(); ++i)
        inv[i] = 1.0 / std::pow(config.ropeTheta, double(2 * i) / double(rotaryDim));
    const RopeScaling& s = config.ropeScaling;
    if (s.type.empty()) return inv;
    if (s.type == "linear") {
        for (double& f : inv) f /= s.factor;
        return inv;
    }
    if (s.type == "llama3") {
        const double lowWavelen = s.originalMaxPositions / s.lowFreqFactor;
        const double highWavelen = s.originalMaxPositions / s.highFreqFactor;
        for (double& f : inv) {
            const double wavelen = 2.0 * std::numbers::pi / f;
            if (wavelen > lowWavelen) {
                f = f / s.factor;
            } else if (wavelen >= highWavelen) {
                const double smooth =
                    (s.originalMaxPositions / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
                f = (1.0 - smooth) * f / s.factor + smooth * f;
            }
        }
        return inv;
    }
    throw UnsupportedError("RoPE scaling '" + s.type + "' is not supported (only linear and llama3).");
}

Rope::Rope(const ModelConfig& config, at::Device device)
    : m_pairing(config.ropePairing), m_invFreq(ropeInverseFrequencies(config, config.headDim)), m_device(device) {}

void Rope::ensureLength(int64_t length) {
    if (length <= m_length) return;
    int64_t newLength = std::max<int64_t>(length, std::max<int64_t>(256, m_length * 2));
    const int64_t half = static_cast<int64_t>(m_invFreq.size());
    auto cosTable = at::empty({newLength, half}, at::kFloat);
    auto sinTable = at::empty({newLength, half}, at::kFloat);
    float* c = cosTable.data_ptr<float>();
    float* s = sinTable.data_ptr<float>();
    // Angles in double: position * frequency loses digits in float32 at long contexts.
    for (int64_t p = 0; p < newLength; ++p)
        for (int64_t i = 0; i < half; ++i) {
            const double angle = double(p) * m_invFreq[i];
            c[p * half + i] = static_cast<float>(std::cos(angle));
            s[p * half + i] = static_cast<float>(std::sin(angle));
        }
    m_cos = cosTable.to(m_device);
    m_sin = sinTable.to(m_device);
    m_length = newLength;
}

at::Tensor Rope::apply(const at::Tensor& x, int64_t positionBegin) {
    const int64_t n = x.size(1);
    const int64_t d = x.size(2);
    ensureLength(positionBegin + n);
    auto cos = m_cos.narrow(0, positionBegin, n).unsqueeze(0); // [1, T, d/2]
    auto sin = m_sin.narrow(0, positionBegin, n).unsqueeze(0);
    auto xf = x.to(at::kFloat);
    at::Tensor out;
    if (m_pairing == RopePairing::Half) {
        auto x1 = xf.narrow(-1, 0, d / 2);
        auto x2 = xf.narrow(-1, d / 2, d / 2);
        out = at::cat({x1 * cos - x2 * sin, x2 * cos + x1 * sin}, -1);
    } else {
        auto pairs = xf.reshape({x.size(0), n, d / 2, 2});
        auto x0 = pairs.select(-1, 0);
        auto x1 = pairs.select(-1, 1);
        out = at::stack({x0 * cos - x1 * sin, x0 * sin + x1 * cos}, -1).view({x.size(0), n, d});
    }
    return out.to(x.scalar_type());
}

} // namespace attnscope::core

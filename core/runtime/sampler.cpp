#include "runtime/sampler.hpp"

#include "errors.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace attnscope::core {

Sampler::Sampler(const SamplingOptions& options) : m_options(options), m_rng(options.seed) {
    if (!(options.temperature >= 0.0) || !std::isfinite(options.temperature))
        throw ArgumentError("Temperature must be a finite number >= 0.");
    if (!(options.topP > 0.0 && options.topP <= 1.0)) throw ArgumentError("top-p must be in (0, 1].");
}

int32_t Sampler::next(std::span<const float> logits) {
    if (logits.empty()) throw ArgumentError("Cannot sample from an empty vocabulary.");
    if (m_options.temperature == 0.0)
        return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());

    const double maxLogit = *std::max_element(logits.begin(), logits.end());
    std::vector<double> probs(logits.size());
    double sum = 0.0;
    for (size_t i = 0; i < logits.size(); ++i) {
        probs[i] = std::exp((double(logits[i]) - maxLogit) / m_options.temperature);
        sum += probs[i];
    }
    for (double& p : probs) p /= sum;

    std::vector<int32_t> order(probs.size());
    std::iota(order.begin(), order.end(), 0);
    size_t keep = order.size();
    if (m_options.topP < 1.0) {
        std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return probs[a] > probs[b]; });
        double mass = 0.0;
        for (size_t i = 0; i < order.size(); ++i) {
            mass += probs[order[i]];
            if (mass >= m_options.topP) {
                keep = i + 1;
                break;
            }
        }
    }
    double kept = 0.0;
    for (size_t i = 0; i < keep; ++i) kept += probs[order[i]];
    const double r = m_rng.uniform() * kept;
    double acc = 0.0;
    for (size_t i = 0; i < keep; ++i) {
        acc += probs[order[i]];
        if (r < acc) return order[i];
    }
    return order[keep - 1];
}

} // namespace attnscope::core

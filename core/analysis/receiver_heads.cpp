#include "analysis/receiver_heads.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace attnscope::core {

double kurtosis(std::span<const float> values) {
    constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
    double n = 0, sum = 0;
    for (float v : values)
        if (!std::isnan(v)) n += 1, sum += v;
    if (n == 0) return kNaN;
    const double mean = sum / n;
    double m2 = 0, m4 = 0;
    for (float v : values)
        if (!std::isnan(v)) {
            const double d2 = (double(v) - mean) * (double(v) - mean);
            m2 += d2;
            m4 += d2 * d2;
        }
    m2 /= n;
    m4 /= n;
    // scipy's guard against a zero variance lost in rounding (np.finfo(float64).resolution = 1e-15).
    if (m2 <= (1e-15 * mean) * (1e-15 * mean)) return kNaN;
    return m4 / (m2 * m2) - 3.0;
}

HeadScores headKurtosis(const VerticalScores& vertical) {
    HeadScores out(vertical.layers, vertical.heads);
    for (int64_t l = 0; l < vertical.layers; ++l)
        for (int64_t h = 0; h < vertical.heads; ++h)
            out.at(l, h) = kurtosis(vertical.head(l, h));
    return out;
}

std::vector<ReceiverHead> receiverHeads(const HeadScores& kurtosis, int64_t topK) {
    std::vector<ReceiverHead> all;
    for (int64_t l = 1; l < kurtosis.layers; ++l)
        for (int64_t h = 0; h < kurtosis.heads; ++h)
            if (const double k = kurtosis.at(l, h); !std::isnan(k)) all.push_back({l, h, k});
    std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.kurtosis > b.kurtosis; });
    all.resize(size_t(std::clamp<int64_t>(topK, 0, int64_t(all.size()))));
    return all;
}

std::vector<float> broadcastScores(const VerticalScores& vertical, std::span<const ReceiverHead> heads) {
    std::vector<float> out(size_t(vertical.sentences), std::numeric_limits<float>::quiet_NaN());
    if (heads.empty()) return out;
    for (int64_t j = 0; j < vertical.sentences; ++j) {
        double sum = 0;
        for (const ReceiverHead& r : heads)
            sum += vertical.head(r.layer, r.head)[size_t(j)];
        out[size_t(j)] = float(sum / double(heads.size()));
    }
    return out;
}

ReceiverHeadReport receiverHeadReport(AttentionSource& source, std::span<const std::array<int64_t, 2>> tokenRanges,
                                      const VerticalOptions& options, int64_t topK) {
    ReceiverHeadReport r;
    r.matrices = sentenceAttention(source, tokenRanges);
    r.vertical = verticalScores(r.matrices, options);
    r.kurtosis = headKurtosis(r.vertical);
    r.heads = receiverHeads(r.kurtosis, topK);
    r.broadcast = broadcastScores(r.vertical, r.heads);
    return r;
}

} // namespace attnscope::core

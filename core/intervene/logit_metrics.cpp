#include "intervene/logit_metrics.hpp"

#include <algorithm>
#include <cmath>

namespace attnscope::core {

std::vector<double> logSoftmaxRows(const std::vector<float>& logits, int64_t vocab) {
    std::vector<double> out(logits.size());
    const int64_t rows = vocab > 0 ? int64_t(logits.size()) / vocab : 0;
    for (int64_t r = 0; r < rows; ++r) {
        const float* x = logits.data() + r * vocab;
        const double mx = *std::max_element(x, x + vocab);
        double z = 0;
        for (int64_t v = 0; v < vocab; ++v) z += std::exp(double(x[v]) - mx);
        const double lse = mx + std::log(z);
        for (int64_t v = 0; v < vocab; ++v) out[size_t(r * vocab + v)] = double(x[v]) - lse;
    }
    return out;
}

double meanKl(const std::vector<double>& logP, const std::vector<double>& logQ, int64_t vocab) {
    const int64_t rows = vocab > 0 ? int64_t(logP.size()) / vocab : 0;
    if (rows == 0) return 0;
    double total = 0;
    for (int64_t r = 0; r < rows; ++r) {
        double kl = 0;
        for (int64_t v = 0; v < vocab; ++v) {
            const double lp = logP[size_t(r * vocab + v)];
            kl += std::exp(lp) * (lp - logQ[size_t(r * vocab + v)]);
        }
        total += std::max(0.0, kl); // rounding can leave -1e-17 where the distributions agree
    }
    return total / double(rows);
}

double shipsKl(const double* logP, const double* logQ, int64_t vocab) {
    double kl = 0;
    for (int64_t v = 0; v < vocab; ++v) {
        const double p = std::exp(logP[v]) + 1e-12, q = std::exp(logQ[v]) + 1e-12;
        kl += p * std::log(p / q);
    }
    return kl;
}

double meanNll(const std::vector<double>& logP, int64_t vocab, const std::vector<int32_t>& next) {
    if (next.empty()) return 0;
    double total = 0;
    for (size_t r = 0; r < next.size(); ++r) total -= logP[r * size_t(vocab) + size_t(next[r])];
    return total / double(next.size());
}

int64_t argmaxRow(const float* row, int64_t vocab) { return std::max_element(row, row + vocab) - row; }

double tQuantile95(int64_t n) {
    static const double table[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                   2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                                   2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
    const int64_t df = n - 1;
    if (df < 1) return 0;
    if (df <= 30) return table[df - 1];
    return 1.96 + 2.4 / double(df); // within 0.003 of the exact quantile beyond 30 degrees of freedom
}

} // namespace attnscope::core

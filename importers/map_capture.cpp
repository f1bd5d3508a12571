#include "map_capture.hpp"

#include "model/tensor_data.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace attnscope::importers {

std::vector<int> importPyramidLevels(int64_t tokens, int64_t maxSide) {
    std::vector<int> levels;
    if (tokens <= 1) return levels;
    int first = 1;
    while (core::pyramidSize(tokens, first) > maxSide)
        ++first;
    for (int l = first;; ++l) {
        levels.push_back(l);
        if (core::pyramidSize(tokens, l) == 1) break;
    }
    return levels;
}

namespace {

// Sums and maxima of 2^level x 2^level cells of one head, [n][n].
void poolHead(const float* map, int64_t T, int level, std::vector<double>& sums, std::vector<float>& maxes) {
    const int64_t n = core::pyramidSize(T, level);
    sums.assign(size_t(n * n), 0.0);
    maxes.assign(size_t(n * n), 0.0f);
    for (int64_t q = 0; q < T; ++q) {
        const int64_t I = q >> level;
        for (int64_t k = 0; k <= q; ++k) { // zeros above the diagonal change no sum and no maximum
            const size_t cell = size_t(I * n + (k >> level));
            sums[cell] += map[q * T + k];
            maxes[cell] = std::max(maxes[cell], map[q * T + k]);
        }
    }
}

// Next level up: 2x2 cells summed and maximised (odd edges have fewer children).
void coarsen(const std::vector<double>& sums, const std::vector<float>& maxes, int64_t n, std::vector<double>& cs,
             std::vector<float>& cm) {
    const int64_t m = (n + 1) / 2;
    cs.assign(size_t(m * m), 0.0);
    cm.assign(size_t(m * m), 0.0f);
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < n; ++j) {
            const size_t to = size_t((i / 2) * m + j / 2), from = size_t(i * n + j);
            cs[to] += sums[from];
            cm[to] = std::max(cm[to], maxes[from]);
        }
}

} // namespace

core::LayerCapture captureFromMaps(const float* maps, int64_t H, int64_t T, int64_t kvHeads,
                                   const std::vector<int>& levels) {
    core::LayerCapture c;
    const size_t ht = size_t(H * T);
    c.received.assign(ht, 0.0f), c.alpha.assign(ht, 0.0f), c.entropy.assign(ht, 0.0f);
    c.firstMass.assign(ht, 0.0f), c.top1.assign(ht, 0);
    c.valueNorm.assign(size_t(kvHeads * T), std::numeric_limits<float>::quiet_NaN());
    for (int level : levels) {
        core::PyramidLevel p;
        p.level = level;
        c.pyramid.push_back(std::move(p));
    }
    std::vector<double> received(static_cast<size_t>(T)), sums, coarseSums;
    std::vector<float> maxes, coarseMaxes;
    for (int64_t h = 0; h < H; ++h) {
        const float* map = maps + h * T * T;
        std::fill(received.begin(), received.end(), 0.0);
        for (int64_t q = 0; q < T; ++q) {
            const float* row = map + q * T;
            double entropy = 0.0;
            int64_t best = 0;
            for (int64_t k = 0; k <= q; ++k) {
                const double p = row[k];
                received[size_t(k)] += p;
                if (p > 0.0) entropy -= p * std::log(p);
                if (row[k] > row[best]) best = k; // strict: the first maximum, as argmax
            }
            c.entropy[size_t(h * T + q)] = float(std::max(0.0, entropy));
            c.firstMass[size_t(h * T + q)] = row[0];
            c.top1[size_t(h * T + q)] = int32_t(best);
        }
        for (int64_t k = 0; k < T; ++k) {
            c.received[size_t(h * T + k)] = float(received[size_t(k)]);
            c.alpha[size_t(h * T + k)] = float(received[size_t(k)] / double(T - k));
        }
        if (levels.empty()) continue;
        // The finest level from the maps, each coarser one from the level below: sums and maxima pool exactly.
        int current = levels.front();
        poolHead(map, T, current, sums, maxes);
        for (size_t li = 0; li < levels.size(); ++li) {
            const int level = levels[li];
            const int64_t n = core::pyramidSize(T, level), side = int64_t(1) << level;
            for (; current < level; ++current) {
                coarsen(sums, maxes, core::pyramidSize(T, current), coarseSums, coarseMaxes);
                sums.swap(coarseSums), maxes.swap(coarseMaxes);
            }
            core::PyramidLevel& p = c.pyramid[li];
            p.mean.resize(size_t(H * n * n)), p.max.resize(size_t(H * n * n));
            for (int64_t i = 0; i < n; ++i)
                for (int64_t j = 0; j < n; ++j) {
                    // Edge cells count only the pairs that exist (docs/run-format.md, pyramid edge rule).
                    const double rows = double(std::min(T, (i + 1) * side) - i * side);
                    const double cols = double(std::min(T, (j + 1) * side) - j * side);
                    const size_t at = size_t((h * n + i) * n + j), cell = size_t(i * n + j);
                    p.mean[at] = core::floatToHalf(float(sums[cell] / (rows * cols)));
                    p.max[at] = core::floatToHalf(maxes[cell]);
                }
        }
    }
    return c;
}

} // namespace attnscope::importers

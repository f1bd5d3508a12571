#include "attention_stack.hpp"

#include "errors.hpp"

#include <fmt/format.h>

#include <cmath>

namespace attnscope::importers {

using core::FormatError;

namespace {

// Row sums may be off by float16 or bfloat16 rounding of each value (2^-8 of the sum for bfloat16); 0.02 leaves room
// for that and still refuses unnormalised scores or masked rows.
constexpr double kRowSumTolerance = 0.02;
// HF's causal mask adds the dtype's minimum before the softmax, so masked entries are exactly 0; anything above
// this is a bidirectional (encoder) map.
constexpr float kAboveDiagonal = 1e-6f;

std::string described(const ImportedArray& a) { return fmt::format("'{}' {}", a.origin, shapeText(a.shape)); }

} // namespace

AttentionStack::AttentionStack(std::vector<ImportedArray> arrays, int64_t batch, const std::string& inputs)
    : m_arrays(std::move(arrays)) {
    std::vector<size_t> maps;
    for (size_t i = 0; i < m_arrays.size(); ++i) {
        const ImportedArray& a = m_arrays[i];
        const size_t r = a.shape.size();
        const bool square = r >= 2 && a.shape[r - 1] == a.shape[r - 2] && a.shape[r - 1] > 0;
        if (a.floating && square) maps.push_back(i);
        else m_skipped.push_back(described(a));
    }
    if (maps.empty())
        throw FormatError(fmt::format("{} hold{} no attention maps (floating-point arrays whose last two axes are "
                                      "T x T).",
                                      inputs, inputs.find(' ') == std::string::npos ? "s" : ""));
    bool batchAxis = false;
    const auto batchOf = [&](const ImportedArray& a, int64_t axis) {
        batchAxis = true;
        if (batch < 0 || batch >= a.shape[size_t(axis)])
            throw core::ArgumentError(fmt::format("The attention array {} has a batch of {}, so it has no batch "
                                                  "element {}.",
                                                  described(a), a.shape[size_t(axis)], batch));
        return batch;
    };
    for (size_t i : maps) {
        const ImportedArray& a = m_arrays[i];
        const int64_t r = int64_t(a.shape.size());
        const int64_t T = a.shape[size_t(r - 1)], H = a.shape[size_t(r - 3 >= 0 ? r - 3 : 0)];
        const size_t perLayer = size_t(H * T * T);
        if (r < 3 || r > 5 || (r == 5 && maps.size() > 1))
            throw FormatError(fmt::format(
                "The array {} has rank {} where attention needs [batch, heads, T, T] or [heads, T, T] per layer, or "
                "one stacked [layers, batch, heads, T, T] or [layers, heads, T, T].",
                described(a), r));
        if (m_tokens == 0) m_heads = H, m_tokens = T;
        if (H != m_heads || T != m_tokens)
            throw FormatError(fmt::format("The array {} does not match the first attention array's {} heads and {} "
                                          "tokens.",
                                          described(a), m_heads, m_tokens));
        m_used.push_back(described(a));
        if (maps.size() > 1) { // one layer per array
            const size_t offset = r == 4 ? size_t(batchOf(a, 0)) * perLayer : 0;
            m_layers.push_back({i, offset, -1});
        } else if (r == 3) {
            m_layers.push_back({i, 0, -1});
        } else {
            const int64_t B = r == 5 ? a.shape[1] : 1, b = r == 5 ? batchOf(a, 1) : 0;
            for (int64_t l = 0; l < a.shape[0]; ++l)
                m_layers.push_back({i, size_t(l * B + b) * perLayer, l});
        }
    }
    if (batch != 0 && !batchAxis)
        throw core::ArgumentError(fmt::format("The attention in {} has no batch axis, so it has no batch element {}.",
                                              inputs, batch));
}

const float* AttentionStack::layer(int64_t l) const {
    const Slice& s = m_layers.at(size_t(l));
    return m_arrays[s.array].values.data() + s.offset;
}

std::string AttentionStack::layerOrigin(int64_t l) const { return m_arrays[m_layers.at(size_t(l)).array].origin; }

void checkAttentionLayer(const float* maps, int64_t heads, int64_t tokens, const std::string& origin, int64_t layer) {
    for (int64_t h = 0; h < heads; ++h)
        for (int64_t q = 0; q < tokens; ++q) {
            const float* row = maps + (h * tokens + q) * tokens;
            double sum = 0.0;
            for (int64_t k = 0; k < tokens; ++k) {
                if (!std::isfinite(row[k]))
                    throw FormatError(fmt::format("'{}' has a non-finite value ({}) in layer {}, head {}, row {} (key {}).",
                                                  origin, row[k], layer, h, q, k));
                if (k > q && std::fabs(row[k]) > kAboveDiagonal)
                    throw core::UnsupportedError(fmt::format(
                        "'{}' is not causal: layer {}, head {}, row {} attends to the later key {} (bidirectional attention "
                        "is not supported).",
                        origin, layer, h, q, k));
                if (row[k] < 0.0f)
                    throw FormatError(fmt::format("'{}' has a negative probability in layer {}, head {}, row {} (key {}).",
                                                  origin, layer, h, q, k));
                sum += row[k];
            }
            if (std::fabs(sum - 1.0) > kRowSumTolerance)
                throw FormatError(fmt::format("'{}' holds no probabilities: layer {}, head {}, row {} sums to {:.4g}, not 1.",
                                              origin, layer, h, q, sum));
        }
}

} // namespace attnscope::importers

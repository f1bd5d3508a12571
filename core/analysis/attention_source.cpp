#include "analysis/attention_source.hpp"

#include "analysis/qk_rows.hpp"
#include "errors.hpp"
#include "store/run_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>

namespace attnscope::core {

DenseAttention::DenseAttention(int64_t layers, int64_t heads, int64_t length, std::vector<float> probs)
    : m_layers(layers), m_heads(heads), m_length(length), m_probs(std::move(probs)) {
    if (layers < 1 || heads < 1 || length < 1 ||
        static_cast<int64_t>(m_probs.size()) != layers * heads * length * length)
        throw ArgumentError(fmt::format("An attention array of {} values is not [{}, {}, {}, {}].", m_probs.size(),
                                        layers, heads, length, length));
}

void DenseAttention::rows(int64_t layer, int64_t head, int64_t row0, int64_t count, std::span<float> out) {
    assert(layer >= 0 && layer < m_layers && head >= 0 && head < m_heads && "DenseAttention: head outside the map");
    assert(row0 >= 0 && count >= 0 && row0 + count <= m_length && "DenseAttention: rows outside the map");
    assert(static_cast<int64_t>(out.size()) >= count * m_length && "DenseAttention: output too small");
    const float* src = m_probs.data() + ((layer * m_heads + head) * m_length + row0) * m_length;
    std::copy(src, src + count * m_length, out.begin());
}

float DenseAttention::at(int64_t layer, int64_t head, int64_t query, int64_t key) const {
    return m_probs[static_cast<size_t>(((layer * m_heads + head) * m_length + query) * m_length + key)];
}

RunAttention::RunAttention(RunReader& reader) : m_reader(reader) {}
RunAttention::~RunAttention() = default;
int64_t RunAttention::layers() const { return m_reader.model().nLayers; }
int64_t RunAttention::heads() const { return m_reader.model().nHeads; }
int64_t RunAttention::length() const { return m_reader.layout().tokens; }

void RunAttention::rows(int64_t layer, int64_t head, int64_t row0, int64_t count, std::span<float> out) {
    const int64_t T = length();
    assert(row0 >= 0 && count >= 0 && row0 + count <= T && "RunAttention: rows outside the map");
    assert(static_cast<int64_t>(out.size()) >= count * T && "RunAttention: output too small");
    if (layer < 0 || layer >= layers() || head < 0 || head >= heads())
        throw ArgumentError(fmt::format("Run file '{}' has no layer {}, head {}.", m_reader.path().string(), layer,
                                        head));
    if (!m_reader.layout().fullProbs && m_reader.layout().qk) {
        if (!m_qk) m_qk = std::make_unique<QkRows>(m_reader);
        m_qk->rows(layer, head, row0, count, out);
        return;
    }
    // Full maps (or neither, which block() refuses): one read of the strip left of the diagonal, not a tile cache.
    std::fill(out.begin(), out.begin() + count * T, 0.0f);
    if (count == 0) return;
    const int64_t cols = row0 + count; // columns past the last row's diagonal are zero
    const std::vector<float> strip = m_reader.block(layer, head, row0, 0, count, cols);
    for (int64_t r = 0; r < count; ++r)
        std::copy_n(strip.begin() + r * cols, cols, out.begin() + r * T);
}

} // namespace attnscope::core

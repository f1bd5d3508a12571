#include "store/run_tile_source.hpp"

#include "errors.hpp"
#include "model/tensor_data.hpp"
#include "store/run_schema.hpp"

#include <algorithm>
#include <cmath>

namespace attnscope::core {

namespace {

// Tokens covered by cell `index` of a level (the last one may be partial).
int64_t cellTokens(int64_t tokens, int level, int64_t index) {
    return std::min(tokens, (index + 1) << level) - std::min(tokens, index << level);
}

} // namespace

RunTileSource::RunTileSource(H5Io io, RunShape shape, double scale, Datasets datasets)
    : m_io(std::move(io)), m_shape(shape), m_scale(scale), m_sets(std::move(datasets)), m_half(h5HalfType()) {}

std::vector<int> RunTileSource::pyramidLevels() const {
    std::vector<int> levels;
    for (const auto& entry : m_sets.pyramid)
        levels.push_back(entry.first);
    return levels;
}

void RunTileSource::cannotServe(int level) const {
    throw UnsupportedError("Run file '" + m_io.file().string() + "' stores neither full attention maps nor Q/K" +
                           (level > 0 ? " nor a pyramid level finer than " + std::to_string(level) : std::string()) +
                           ", so its level-" + std::to_string(level) + " tiles cannot be served.");
}

Tile RunTileSource::tile(int64_t layer, int64_t head, int level, int64_t row0, int64_t col0, int64_t size,
                         TileReduce reduce) const {
    if (layer < 0 || layer >= m_shape.layers || head < 0 || head >= m_shape.heads || level < 0 || level > 40 ||
        row0 < 0 || col0 < 0 || size <= 0)
        throw ArgumentError("Run file '" + m_io.file().string() + "' has no tile at layer " + std::to_string(layer) +
                            ", head " + std::to_string(head) + ", level " + std::to_string(level) + ", origin (" +
                            std::to_string(row0) + ", " + std::to_string(col0) + "), size " + std::to_string(size) +
                            ".");
    const int64_t n = pyramidSize(m_shape.tokens, level);
    Tile t;
    t.level = level;
    t.row0 = row0, t.col0 = col0;
    t.rows = std::clamp<int64_t>(n - row0, 0, size);
    t.cols = std::clamp<int64_t>(n - col0, 0, size);
    if (t.rows == 0 || t.cols == 0) {
        t.rows = t.cols = 0; // past the edge: an empty tile, which a view simply does not draw
        t.source = m_sets.probs ? TileSource::FullMap : TileSource::Recomputed;
        return t;
    }
    if (level == 0) {
        t.source = level0(layer, head, row0, col0, t.rows, t.cols, t.values);
        return t;
    }
    if (auto it = m_sets.pyramid.find(level); it != m_sets.pyramid.end()) {
        const bool max = reduce == TileReduce::Max;
        readHalf(it->second[max].get(), runPyramidPath(level, max), layer, head, row0, col0, t.rows, t.cols, t.values);
        t.source = TileSource::Pyramid;
        return t;
    }
    return pooled(layer, head, level, row0, col0, t.rows, t.cols, reduce);
}

std::vector<float> RunTileSource::block(int64_t layer, int64_t head, int64_t row0, int64_t col0, int64_t rows,
                                        int64_t cols) const {
    const int64_t T = m_shape.tokens;
    if (layer < 0 || layer >= m_shape.layers || head < 0 || head >= m_shape.heads || row0 < 0 || col0 < 0 ||
        rows <= 0 || cols <= 0 || row0 + rows > T || col0 + cols > T)
        throw ArgumentError("Run file '" + m_io.file().string() + "' has no block of " + std::to_string(rows) + " x " +
                            std::to_string(cols) + " at (" + std::to_string(row0) + ", " + std::to_string(col0) +
                            ") in layer " + std::to_string(layer) + ", head " + std::to_string(head) + " of " +
                            std::to_string(T) + " tokens.");
    std::vector<float> out;
    level0(layer, head, row0, col0, rows, cols, out);
    return out;
}

void RunTileSource::readHalf(hid_t dataset, const std::string& what, int64_t layer, int64_t head, int64_t r0,
                             int64_t c0, int64_t nr, int64_t nc, std::vector<float>& out) const {
    std::vector<uint16_t> bits(size_t(nr * nc));
    m_io.readSlab(dataset, m_half.get(), {hsize_t(layer), hsize_t(head), hsize_t(r0), hsize_t(c0)},
                  {1, 1, hsize_t(nr), hsize_t(nc)}, bits.data(), what);
    out.resize(bits.size());
    std::transform(bits.begin(), bits.end(), out.begin(), halfToFloat);
}

TileSource RunTileSource::level0(int64_t layer, int64_t head, int64_t r0, int64_t c0, int64_t nr, int64_t nc,
                                 std::vector<float>& out) const {
    if (m_sets.probs) {
        readHalf(m_sets.probs->get(), "/attention/probs", layer, head, r0, c0, nr, nc, out);
        return TileSource::FullMap;
    }
    if (!m_sets.q) cannotServe(0);
    recompute(layer, head, r0, c0, nr, nc, out);
    return TileSource::Recomputed;
}

void RunTileSource::recompute(int64_t layer, int64_t head, int64_t r0, int64_t c0, int64_t nr, int64_t nc,
                              std::vector<float>& out) const {
    out.assign(size_t(nr * nc), 0.0f);
    const int64_t keyEnd = std::min(c0 + nc, r0 + nr); // keys past the last query are masked for every row
    if (keyEnd <= c0) return;
    const int64_t d = m_shape.headDim, keys = keyEnd - c0;
    const int64_t kvHead = head / (m_shape.heads / m_shape.kvHeads);
    std::vector<float> q, k, lse(static_cast<size_t>(nr));
    readHalf(m_sets.q->get(), "/qk/q", layer, head, r0, 0, nr, d, q);
    readHalf(m_sets.k->get(), "/qk/k", layer, kvHead, c0, 0, keys, d, k);
    if (m_sets.qLo && m_sets.kLo) {
        // hi + lo carries ~22 significant bits: float16 alone moves sharp heads' scores by ~|s|·2^-10.
        std::vector<float> qLo, kLo;
        readHalf(m_sets.qLo->get(), "/qk/q_lo", layer, head, r0, 0, nr, d, qLo);
        readHalf(m_sets.kLo->get(), "/qk/k_lo", layer, kvHead, c0, 0, keys, d, kLo);
        for (size_t i = 0; i < q.size(); ++i) q[i] += qLo[i];
        for (size_t i = 0; i < k.size(); ++i) k[i] += kLo[i];
    }
    m_io.readSlab(m_sets.lse->get(), H5T_NATIVE_FLOAT, {hsize_t(layer), hsize_t(head), hsize_t(r0)},
                  {1, 1, hsize_t(nr)}, lse.data(), "/qk/lse");
    for (int64_t i = 0; i < nr; ++i) {
        const float* qi = q.data() + i * d;
        const int64_t last = std::min(keys, r0 + i - c0 + 1); // causal: key <= query
        for (int64_t j = 0; j < last; ++j) {
            const float* kj = k.data() + j * d;
            float dot = 0.0f;
            for (int64_t e = 0; e < d; ++e)
                dot += qi[e] * kj[e];
            // The subtraction in double: scores and LSE can both be large while their difference is small.
            out[size_t(i * nc + j)] = float(std::exp(m_scale * double(dot) - double(lse[size_t(i)])));
        }
    }
}

Tile RunTileSource::pooled(int64_t layer, int64_t head, int level, int64_t row0, int64_t col0, int64_t rows,
                           int64_t cols, TileReduce reduce) const {
    // Pool from the coarsest stored level below `level` (exact: the mean is weighted by each cell's token count),
    // else from level 0; the work grows with the area of the source region.
    int source = 0;
    for (const auto& entry : m_sets.pyramid)
        if (entry.first < level) source = entry.first;
    if (source == 0 && !m_sets.probs && !m_sets.q) cannotServe(level);
    const int shift = level - source;
    const int64_t T = m_shape.tokens, ns = pyramidSize(T, source);
    const int64_t sr0 = row0 << shift, sr1 = std::min(ns, (row0 + rows) << shift);
    const int64_t sc0 = col0 << shift, sc1 = std::min(ns, (col0 + cols) << shift);
    const bool max = reduce == TileReduce::Max;

    Tile t;
    t.level = level, t.row0 = row0, t.col0 = col0, t.rows = rows, t.cols = cols;
    t.source = source > 0 ? TileSource::Pyramid : m_sets.probs ? TileSource::FullMap : TileSource::Recomputed;
    std::vector<double> sum(size_t(rows * cols), 0.0);
    t.values.assign(size_t(rows * cols), 0.0f); // probabilities are >= 0, so 0 is the max of an empty region
    std::vector<float> block;
    for (int64_t br = sr0; br < sr1; br += kRunMapChunk) {
        const int64_t nr = std::min(kRunMapChunk, sr1 - br);
        for (int64_t bc = sc0; bc < sc1; bc += kRunMapChunk) {
            const int64_t nc = std::min(kRunMapChunk, sc1 - bc);
            if (bc > br + nr - 1) break; // this block and those right of it lie above the diagonal: all zeros
            if (source == 0)
                level0(layer, head, br, bc, nr, nc, block);
            else
                readHalf(m_sets.pyramid.at(source)[max].get(), runPyramidPath(source, max), layer, head, br, bc, nr, nc,
                         block);
            for (int64_t i = 0; i < nr; ++i) {
                const int64_t I = ((br + i) >> shift) - row0;
                const double rowWeight = double(cellTokens(T, source, br + i));
                for (int64_t j = 0; j < nc; ++j) {
                    const size_t cell = size_t(I * cols + (((bc + j) >> shift) - col0));
                    const float v = block[size_t(i * nc + j)];
                    if (max)
                        t.values[cell] = std::max(t.values[cell], v);
                    else
                        sum[cell] += double(v) * rowWeight * double(cellTokens(T, source, bc + j));
                }
            }
        }
    }
    if (!max)
        for (int64_t I = 0; I < rows; ++I)
            for (int64_t J = 0; J < cols; ++J)
                t.values[size_t(I * cols + J)] =
                    float(sum[size_t(I * cols + J)] /
                          double(cellTokens(T, level, row0 + I) * cellTokens(T, level, col0 + J)));
    return t;
}

} // namespace attnscope::core

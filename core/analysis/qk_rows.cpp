#include "analysis/qk_rows.hpp"

#include "errors.hpp"
#include "model/tensor_data.hpp"
#include "store/h5_io.hpp"
#include "store/run_reader.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <optional>
#include <vector>

namespace attnscope::core {

namespace {

// Keys per inner sweep: one chunk of dot products and the d rows of K it reads stay in L1 while q is applied.
constexpr int64_t kKeyChunk = 512;

} // namespace

struct QkRows::Impl {
    H5Io io;
    H5File file;
    H5Dataset q, k, lse;
    std::optional<H5Dataset> qLo, kLo;
    H5Type half = h5HalfType();
    int64_t heads = 0, kvHeads = 0, d = 0, T = 0;
    double scale = 0;
    int64_t layer = -1;           // whose K is held
    std::vector<uint8_t> kLoaded; // [Hkv]
    std::vector<float> kT;        // [Hkv][d][T]: keys along the fast axis, so one q element sweeps many keys
    std::vector<float> qBlock, lseBlock;
    std::vector<uint16_t> bits, loBits;

    explicit Impl(RunReader& reader) : io(reader.path()) {
        heads = reader.model().nHeads, kvHeads = reader.model().nKvHeads, d = reader.model().headDim;
        T = reader.layout().tokens, scale = reader.layout().scale;
        if (!reader.layout().qk)
            throw UnsupportedError("Run file '" + reader.path().string() +
                                   "' stores no Q/K, so its attention rows cannot be recomputed.");
        h5Silence();
        // A second read-only handle: HDF5 shares the already open file, and the reader's tile cache stays untouched.
        file = H5File(H5Fopen(reader.path().c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
        if (!file)
            throw FormatError("Cannot open run file '" + reader.path().string() + "' for Q/K" + h5Detail() + ".");
        q = io.openDataset(file.get(), "/qk/q"), k = io.openDataset(file.get(), "/qk/k");
        lse = io.openDataset(file.get(), "/qk/lse");
        if (io.exists(file.get(), "/qk/q_lo")) { // as the reader decides: by presence (layout.qkLow is the writer's)
            qLo = io.openDataset(file.get(), "/qk/q_lo");
            kLo = io.openDataset(file.get(), "/qk/k_lo");
        }
        kLoaded.assign(size_t(kvHeads), 0);
        kT.resize(size_t(kvHeads * d * T));
    }

    // [rows][d] float32 of Q or K: hi + lo summed in float, as RunTileSource::recompute does.
    void readHalves(const H5Dataset& hi, const std::optional<H5Dataset>& lo, const char* what, const char* whatLo,
                    int64_t l, int64_t h, int64_t r0, int64_t nr, std::vector<float>& out) {
        const H5Dims start{hsize_t(l), hsize_t(h), hsize_t(r0), 0}, count{1, 1, hsize_t(nr), hsize_t(d)};
        bits.resize(size_t(nr * d));
        io.readSlab(hi.get(), half.get(), start, count, bits.data(), what);
        out.resize(bits.size());
        std::transform(bits.begin(), bits.end(), out.begin(), halfToFloat);
        if (!lo) return;
        loBits.resize(bits.size());
        io.readSlab(lo->get(), half.get(), start, count, loBits.data(), whatLo);
        for (size_t i = 0; i < out.size(); ++i)
            out[i] += halfToFloat(loBits[i]);
    }

    const float* keys(int64_t l, int64_t kv) {
        if (l != layer) std::fill(kLoaded.begin(), kLoaded.end(), 0), layer = l;
        float* dst = kT.data() + kv * d * T;
        if (!kLoaded[size_t(kv)]) {
            std::vector<float> rowsMajor;
            readHalves(k, kLo, "/qk/k", "/qk/k_lo", l, kv, 0, T, rowsMajor);
            for (int64_t t = 0; t < T; ++t)
                for (int64_t e = 0; e < d; ++e)
                    dst[e * T + t] = rowsMajor[size_t(t * d + e)];
            kLoaded[size_t(kv)] = 1;
        }
        return dst;
    }
};

QkRows::QkRows(RunReader& reader) : m_impl(std::make_unique<Impl>(reader)) {}
QkRows::~QkRows() = default;

size_t QkRows::bytesHeld() const {
    return (m_impl->kT.size() + m_impl->qBlock.size()) * sizeof(float);
}

void QkRows::rows(int64_t layer, int64_t head, int64_t row0, int64_t count, std::span<float> out) {
    Impl& m = *m_impl;
    const int64_t T = m.T, d = m.d;
    assert(head >= 0 && head < m.heads && row0 >= 0 && count >= 0 && row0 + count <= T && "QkRows: outside the map");
    assert(int64_t(out.size()) >= count * T && "QkRows: output too small");
    std::fill(out.begin(), out.begin() + count * T, 0.0f);
    if (count == 0) return;
    h5Silence();
    const float* kT = m.keys(layer, head / (m.heads / m.kvHeads));
    m.readHalves(m.q, m.qLo, "/qk/q", "/qk/q_lo", layer, head, row0, count, m.qBlock);
    m.lseBlock.resize(size_t(count));
    m.io.readSlab(m.lse.get(), H5T_NATIVE_FLOAT, {hsize_t(layer), hsize_t(head), hsize_t(row0)}, {1, 1, hsize_t(count)},
                  m.lseBlock.data(), "/qk/lse");
    // Rows are independent: OpenMP threads take them a few at a time (later rows have more keys), each with its own
    // dot-product buffer.
#pragma omp parallel
    {
        std::vector<float> dotsOfThread(static_cast<size_t>(T));
        float* dots = dotsOfThread.data();
#pragma omp for schedule(dynamic, 4)
        for (int64_t i = 0; i < count; ++i) {
            const int64_t keysInRow = row0 + i + 1; // causal: key <= query
            const float* qi = m.qBlock.data() + i * d;
            // Each dot accumulates e = 0..d-1 in order from 0.0f, as the reader's scalar loop does, so the sums are
            // the same floats; the sweep over keys is what vectorises.
            for (int64_t j0 = 0; j0 < keysInRow; j0 += kKeyChunk) {
                const int64_t j1 = std::min(keysInRow, j0 + kKeyChunk);
                std::fill(dots + j0, dots + j1, 0.0f);
                for (int64_t e = 0; e < d; ++e) {
                    const float qe = qi[e];
                    const float* ke = kT + e * T;
                    for (int64_t j = j0; j < j1; ++j)
                        dots[j] += qe * ke[j];
                }
            }
            const double lse = double(m.lseBlock[size_t(i)]);
            float* row = out.data() + i * T;
            // The subtraction in double, as the reader does: scores and LSE can both be large while their difference
            // is small.
            for (int64_t j = 0; j < keysInRow; ++j)
                row[j] = float(std::exp(m.scale * double(dots[j]) - lse));
        }
    }
}

} // namespace attnscope::core

// RunWriter's data writes: full-map row bands and per-layer captures (hyperslabs of datasets created up front),
// residual norms, output and the probe. Vector sizes are checked first: a wrong capture is an ArgumentError, not a
// read past it.
#include "store/run_writer_impl.hpp"

namespace attnscope::core {

void RunWriter::writeProbRows(int64_t layer, int64_t rowBegin, int64_t rows, const uint16_t* probs) {
    Impl& m = *m_impl;
    h5Silence();
    if (!m.layout.fullProbs) m.badArgument("full maps were not asked for in the layout, yet rows were written");
    if (layer < 0 || layer >= m.L || rowBegin < 0 || rows <= 0 || rowBegin + rows > m.T)
        m.badArgument("rows [" + std::to_string(rowBegin) + ", " + std::to_string(rowBegin + rows) + ") of layer " +
                      std::to_string(layer) + " lie outside the attention maps");
    m.io.writeSlab(m.layerSets.at("/attention/probs").dataset.get(), m.half.get(),
                   {hsize_t(layer), 0, hsize_t(rowBegin), 0}, {1, hsize_t(m.H), hsize_t(rows), hsize_t(m.T)}, probs,
                   "/attention/probs");
    std::fill_n(m.rowDone.begin() + layer * m.T + rowBegin, rows, uint8_t(1));
}

void RunWriter::writeLayer(int64_t layer, const LayerCapture& c) {
    write(encodeLayer(layer, c));
}

void RunWriter::writeResidualNorms(const std::vector<float>& norms) {
    Impl& m = *m_impl;
    h5Silence();
    if (norms.size() != size_t((m.L + 1) * m.T))
        m.badArgument("the residual norms have " + std::to_string(norms.size()) + " values where " +
                      std::to_string((m.L + 1) * m.T) + " were expected");
    if (!m.residualNorm)
        m.residualNorm =
            m.io.createDataset(m.file.get(), "/stats/residual_norm", H5T_IEEE_F32LE, {hsize_t(m.L + 1), hsize_t(m.T)},
                               {1, clampChunk(m.T, kRunTokenChunk)}, kRunDeflate);
    m.io.writeAll(m.residualNorm.get(), H5T_NATIVE_FLOAT, norms.data(), "/stats/residual_norm");
}

void RunWriter::writeResidualExtremes(const ResidualExtremes& e) {
    Impl& m = *m_impl;
    h5Silence();
    const size_t states = size_t(m.L + 1);
    if (e.absMedian.size() != states || e.topValue.size() != states * kResidualTop ||
        e.topToken.size() != states * kResidualTop || e.topDim.size() != states * kResidualTop)
        m.badArgument("the residual extremes do not hold " + std::to_string(states) + " states");
    // Small and written once: no chunking, no filter.
    hid_t root = m.file.get();
    const hsize_t s = states, k = kResidualTop;
    m.io.writeAll(m.io.createDataset(root, "/stats/residual_abs_median", H5T_IEEE_F32LE, {s}).get(), H5T_NATIVE_FLOAT,
                  e.absMedian.data(), "/stats/residual_abs_median");
    m.io.writeAll(m.io.createDataset(root, "/stats/residual_top_value", H5T_IEEE_F32LE, {s, k}).get(), H5T_NATIVE_FLOAT,
                  e.topValue.data(), "/stats/residual_top_value");
    m.io.writeAll(m.io.createDataset(root, "/stats/residual_top_token", H5T_STD_I32LE, {s, k}).get(), H5T_NATIVE_INT32,
                  e.topToken.data(), "/stats/residual_top_token");
    m.io.writeAll(m.io.createDataset(root, "/stats/residual_top_dim", H5T_STD_I32LE, {s, k}).get(), H5T_NATIVE_INT32,
                  e.topDim.data(), "/stats/residual_top_dim");
}

void RunWriter::writeOutput(const RunOutput& output) {
    Impl& m = *m_impl;
    h5Silence();
    const size_t t = size_t(m.T);
    if (output.loss.size() != t || output.topkIds.size() != t * kTopK || output.topkProbs.size() != t * kTopK)
        m.badArgument("the output has " + std::to_string(output.loss.size()) + " losses and " +
                      std::to_string(output.topkIds.size()) + " top-k ids for " + std::to_string(t) + " tokens");
    const hid_t root = m.file.get();
    const hsize_t ht = hsize_t(m.T), chunk = clampChunk(m.T, kRunTokenChunk);
    if (!m.loss) {
        m.io.createGroup(root, "/output");
        m.loss = m.io.createDataset(root, "/output/loss", H5T_IEEE_F32LE, {ht}, {chunk}, kRunDeflate);
        m.topkIds = m.io.createDataset(root, "/output/topk_ids", H5T_STD_I32LE, {ht, kTopK},
                                       {std::min<hsize_t>(chunk, 8192), kTopK}, kRunDeflate);
        m.topkProbs = m.io.createDataset(root, "/output/topk_probs", H5T_IEEE_F32LE, {ht, kTopK},
                                         {std::min<hsize_t>(chunk, 8192), kTopK}, kRunDeflate);
    }
    m.io.writeAll(m.loss.get(), H5T_NATIVE_FLOAT, output.loss.data(), "/output/loss");
    m.io.writeAll(m.topkIds.get(), H5T_NATIVE_INT32, output.topkIds.data(), "/output/topk_ids");
    m.io.writeAll(m.topkProbs.get(), H5T_NATIVE_FLOAT, output.topkProbs.data(), "/output/topk_probs");
}

void RunWriter::writeProbe(const RunProbe& probe) {
    Impl& m = *m_impl;
    h5Silence();
    if (!probe.present()) m.badArgument("a probe needs a kind");
    if (probe.period < 1 || probe.repeats < 1 || probe.length() != m.T)
        m.badArgument("the probe (" + std::to_string(probe.repeats) + " x " + std::to_string(probe.period) +
                      (probe.bos() ? " after a BOS" : "") + ") does not cover the run's " + std::to_string(m.T) +
                      " tokens");
    if (probe.batchIndex < 0 || probe.batchIndex >= probe.batchSize || probe.idLow > probe.idHigh)
        m.badArgument("the probe's batch index or id range is not valid");
    const hid_t root = m.file.get();
    if (m.io.exists(root, "/probe")) m.badArgument("the probe was already written");
    H5Group group = m.io.createGroup(root, "/probe");
    const hid_t g = group.get();
    m.io.writeAttr(g, "kind", probe.kind);
    // HDF5 attributes here are signed: the seed keeps its 64 bits, read back through the same cast.
    m.io.writeAttr(g, "seed", static_cast<int64_t>(probe.seed));
    m.io.writeAttr(g, "period", probe.period);
    m.io.writeAttr(g, "repeats", probe.repeats);
    m.io.writeAttr(g, "bos_id", probe.bosId);
    m.io.writeAttr(g, "id_low", probe.idLow);
    m.io.writeAttr(g, "id_high", probe.idHigh);
    m.io.writeAttr(g, "distinct", int64_t(probe.distinct ? 1 : 0));
    m.io.writeAttr(g, "batch_index", probe.batchIndex);
    m.io.writeAttr(g, "batch_size", probe.batchSize);
}

} // namespace attnscope::core

// RunWriter's chunk path: a layer's datasets and bands of full-map rows cut into the datasets' chunks and encoded
// outside HDF5 (store/chunk_codec), on the caller's threads, then stored as they are with H5Dwrite_chunk.
#include "store/run_writer_impl.hpp"

namespace attnscope::core {

namespace {

// One dataset's share of an encode: its slab is [heads][rows][columns] row-major (rank-3 datasets: one row of
// `columns`), starting at `rowOffset` in the dataset's row axis.
struct SlabPart {
    std::string path;
    const uint8_t* data = nullptr;
    const RunWriter::Impl::LayerDataset* set = nullptr;
    int64_t heads = 0, rows = 1, columns = 0, rowOffset = 0;
    bool causal = false; // chunks whose first column lies past the slab's last row hold only zeros: left out

    bool rank4() const { return set->dims.size() == 4; }
    int64_t chunkRows() const { return rank4() ? int64_t(set->chunk[2]) : 1; }
    int64_t chunkColumns() const { return int64_t(set->chunk.back()); }
};

struct ChunkJob {
    size_t part = 0;
    int64_t head = 0, row = 0, column = 0; // within the slab
};

// Chunks are [1][1][chunkRows][chunkColumns] (rank 3: [1][1][chunkColumns]), padded with zeros past the edges as
// HDF5 stores them.
EncodedChunks encodeParts(int64_t layer, const std::vector<SlabPart>& parts, const ParallelJobs& parallel) {
    std::vector<ChunkJob> jobs;
    for (size_t i = 0; i < parts.size(); ++i) {
        const SlabPart& p = parts[i];
        const int64_t chunkRows = p.chunkRows(), chunkColumns = p.chunkColumns();
        for (int64_t h = 0; h < p.heads; ++h)
            for (int64_t r = 0; r < p.rows; r += chunkRows)
                for (int64_t c = 0; c < p.columns; c += chunkColumns)
                    if (!p.causal || c <= p.rowOffset + std::min(p.rows, r + chunkRows) - 1)
                        jobs.push_back({i, h, r, c});
    }
    std::vector<EncodedChunks::Chunk> chunks(jobs.size());
    auto encode = [&](int64_t j) {
        const ChunkJob& job = jobs[size_t(j)];
        const SlabPart& p = parts[job.part];
        const int64_t chunkRows = p.chunkRows(), chunkColumns = p.chunkColumns();
        const size_t es = p.set->filters.elementSize;
        std::vector<uint8_t> chunk(size_t(chunkRows * chunkColumns) * es, 0);
        const int64_t rows = std::min(chunkRows, p.rows - job.row),
                      columns = std::min(chunkColumns, p.columns - job.column);
        for (int64_t r = 0; r < rows; ++r) {
            const uint8_t* from = p.data + size_t((job.head * p.rows + job.row + r) * p.columns + job.column) * es;
            std::copy(from, from + size_t(columns) * es, chunk.data() + size_t(r * chunkColumns) * es);
        }
        EncodedChunks::Chunk& out = chunks[size_t(j)];
        const auto l = uint64_t(layer), h = uint64_t(job.head), c = uint64_t(job.column);
        out.offset = p.rank4() ? std::array<uint64_t, 4>{l, h, uint64_t(p.rowOffset + job.row), c}
                               : std::array<uint64_t, 4>{l, h, c, 0};
        out.bytes = encodeChunk(chunk.data(), chunk.size(), p.set->filters);
    };
    if (parallel)
        parallel(int64_t(jobs.size()), encode);
    else
        for (int64_t j = 0; j < int64_t(jobs.size()); ++j)
            encode(j);

    EncodedChunks out;
    out.layer = layer;
    for (const SlabPart& p : parts)
        out.datasets.push_back({p.path, {}});
    for (size_t j = 0; j < jobs.size(); ++j)
        out.datasets[jobs[j].part].chunks.push_back(std::move(chunks[j]));
    return out;
}

} // namespace

EncodedChunks RunWriter::encodeLayer(int64_t layer, const LayerCapture& c, const ParallelJobs& parallel) const {
    const Impl& m = *m_impl;
    if (layer < 0 || layer >= m.L) m.badArgument("layer " + std::to_string(layer) + " does not exist");
    const std::string where = " of layer " + std::to_string(layer);
    auto expect = [&](size_t actual, int64_t expected, const char* name) {
        if (actual != size_t(expected))
            m.badArgument(std::string("the capture's ") + name + where + " has " + std::to_string(actual) +
                          " values where " + std::to_string(expected) + " were expected");
    };
    const int64_t ht = m.H * m.T, kvt = m.Hkv * m.T;
    const std::array<const std::vector<float>*, kRunFloatStats.size()> floats = {&c.received, &c.alpha, &c.entropy,
                                                                                 &c.firstMass};
    for (size_t i = 0; i < floats.size(); ++i)
        expect(floats[i]->size(), ht, kRunFloatStats[i]);
    expect(c.top1.size(), ht, "top1");
    expect(c.valueNorm.size(), kvt, "value_norm");
    if (m.layout.qk) {
        expect(c.lse.size(), ht, "lse");
        expect(c.q.size(), ht * m.d, "q");
        expect(c.k.size(), kvt * m.d, "k");
        if (m.layout.qkLow) {
            expect(c.qLo.size(), ht * m.d, "q_lo");
            expect(c.kLo.size(), kvt * m.d, "k_lo");
        }
    }
    const auto& levels = m.layout.pyramidLevels;
    for (const PyramidLevel& p : c.pyramid)
        if (std::find(levels.begin(), levels.end(), p.level) == levels.end())
            m.badArgument("the capture has pyramid level " + std::to_string(p.level) + where +
                          " which the layout does not list");

    std::vector<SlabPart> parts;
    // Heads, rows and columns of a layer's slab follow from the dataset's own shape.
    auto add = [&](const std::string& path, const void* data) {
        const Impl::LayerDataset& set = m.layerSets.at(path);
        const bool rank4 = set.dims.size() == 4;
        parts.push_back({path, static_cast<const uint8_t*>(data), &set, int64_t(set.dims[1]),
                         rank4 ? int64_t(set.dims[2]) : 1, int64_t(set.dims.back()), 0, false});
    };
    for (int level : levels) {
        auto found = std::find_if(c.pyramid.begin(), c.pyramid.end(), [&](auto& p) { return p.level == level; });
        if (found == c.pyramid.end()) m.badArgument("pyramid level " + std::to_string(level) + where + " is missing");
        const int64_t n = pyramidSize(m.T, level);
        expect(found->mean.size(), m.H * n * n, "pyramid mean");
        expect(found->max.size(), m.H * n * n, "pyramid max");
        add(runPyramidPath(level, false), found->mean.data());
        add(runPyramidPath(level, true), found->max.data());
    }
    for (size_t i = 0; i < floats.size(); ++i)
        add(std::string("/stats/") + kRunFloatStats[i], floats[i]->data());
    add("/stats/top1", c.top1.data());
    add("/stats/value_norm", c.valueNorm.data());
    if (m.layout.qk) {
        add("/qk/lse", c.lse.data());
        add("/qk/q", c.q.data());
        add("/qk/k", c.k.data());
        if (m.layout.qkLow) {
            add("/qk/q_lo", c.qLo.data());
            add("/qk/k_lo", c.kLo.data());
        }
    }
    return encodeParts(layer, parts, parallel);
}

int64_t RunWriter::probChunkRows() const {
    return int64_t(clampChunk(m_impl->T, kRunMapChunk));
}

EncodedChunks RunWriter::encodeProbRows(int64_t layer, int64_t rowBegin, int64_t rows, const uint16_t* probs,
                                        const ParallelJobs& parallel) const {
    const Impl& m = *m_impl;
    if (!m.layout.fullProbs) m.badArgument("full maps were not asked for in the layout, yet rows were written");
    const int64_t c = probChunkRows();
    if (layer < 0 || layer >= m.L || rowBegin < 0 || rowBegin % c != 0 || rows != std::min(c, m.T - rowBegin))
        m.badArgument("rows [" + std::to_string(rowBegin) + ", " + std::to_string(rowBegin + rows) + ") of layer " +
                      std::to_string(layer) + " are not one whole chunk row of the attention maps");
    const std::string path = "/attention/probs";
    EncodedChunks out = encodeParts(
        layer, {{path, reinterpret_cast<const uint8_t*>(probs), &m.layerSets.at(path), m.H, rows, m.T, rowBegin, true}},
        parallel);
    out.rowBegin = rowBegin;
    out.rows = rows;
    return out;
}

void RunWriter::write(const EncodedChunks& encoded) {
    Impl& m = *m_impl;
    h5Silence();
    if (encoded.layer < 0 || encoded.layer >= m.L)
        m.badArgument("layer " + std::to_string(encoded.layer) + " does not exist");
    for (const EncodedChunks::Dataset& d : encoded.datasets) {
        const auto found = m.layerSets.find(d.path);
        if (found == m.layerSets.end()) m.badArgument("there is no dataset " + d.path + " to write chunks to");
        for (const EncodedChunks::Chunk& c : d.chunks) {
            const hsize_t offset[4] = {c.offset[0], c.offset[1], c.offset[2], c.offset[3]};
            // Filter mask 0: the bytes went through every filter of the dataset's pipeline already.
            if (H5Dwrite_chunk(found->second.dataset.get(), H5P_DEFAULT, 0, offset, c.bytes.size(), c.bytes.data()) < 0)
                throw FileError("Cannot write " + d.path + " to '" + m.tempPath.string() + "'" + h5Detail() + ".");
        }
    }
    if (encoded.rows > 0)
        std::fill_n(m.rowDone.begin() + encoded.layer * m.T + encoded.rowBegin, encoded.rows, uint8_t(1));
    else
        m.layerDone[size_t(encoded.layer)] = 1;
}

} // namespace attnscope::core

#include "store/run_reader.hpp"

#include "errors.hpp"
#include "store/analysis_group.hpp"
#include "store/h5_heap_check.hpp"
#include "store/h5_io.hpp"
#include "store/run_schema.hpp"
#include "store/run_tile_cache.hpp"
#include "store/run_tile_source.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>

namespace attnscope::core {

struct RunReader::Impl {
    std::filesystem::path path;
    H5Io io;
    // Declared before the datasets so that it is closed after them.
    H5File file;
    RunModelInfo model;
    RunTokens tokens;
    RunLayout layout;
    RunProbe probe;
    RunShape shape;
    int formatVersion = 0;
    std::string created, producer;
    std::map<std::string, H5Dataset> stats; // /stats/<name>
    std::optional<H5Dataset> residual, loss, topkIds, topkProbs;
    std::optional<H5Dataset> residualMedian, residualTopValue, residualTopToken, residualTopDim;
    std::unique_ptr<RunTileSource> source;
    RunTileCache cache;

    Impl(const std::filesystem::path& p, size_t cacheBytes) : path(p), io(p), cache(cacheBytes) {}

    void open();
    void readIdentity();
    void readTokens();
    void readProbe();
    RunTileSource::Datasets openAttention();
    void openStatsAndOutput();

    // One layer's [rows][T] slab of an [L,rows,T] dataset; the caller has checked `layer`.
    template <typename T>
    std::vector<T> readLayer(const H5Dataset& dataset, hid_t memType, int64_t rows, int64_t layer,
                             const std::string& what) {
        std::vector<T> values(size_t(rows * shape.tokens));
        io.readSlab(dataset.get(), memType, {hsize_t(layer), 0, 0}, {1, hsize_t(rows), hsize_t(shape.tokens)},
                    values.data(), what);
        return values;
    }
    void checkLayer(int64_t layer) const {
        if (layer < 0 || layer >= shape.layers)
            throw ArgumentError("Run file '" + path.string() + "' has no layer " + std::to_string(layer) + ".");
    }
};

void RunReader::Impl::open() {
    const std::string name = path.string();
    std::error_code error;
    if (!std::filesystem::exists(path, error))
        throw FileError("Cannot open run file '" + name + "': it does not exist.");
    if (std::filesystem::is_directory(path, error))
        throw FileError("Cannot open run file '" + name + "': it is a folder.");
    if (::access(path.c_str(), R_OK) != 0)
        throw FileError("Cannot open run file '" + name + "': " + std::strerror(errno) + ".");
    H5Plist fapl(H5Pcreate(H5P_FILE_ACCESS));
#if H5_VERSION_GE(1, 10, 7)
    // Lock where the file system can, but do not refuse files on ones that cannot (NFS, some containers).
    if (fapl) H5Pset_file_locking(fapl.get(), true, true);
#endif
    file = H5File(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl ? fapl.get() : H5P_DEFAULT));
    if (!file) {
        const std::string detail = h5Detail();
        if (H5Fis_hdf5(path.c_str()) > 0)
            throw FormatError("Cannot open run file '" + name + "': it is truncated or corrupted" + detail + ".");
        H5Eclear2(H5E_DEFAULT);
        throw FormatError("Cannot open run file '" + name + "': it is not an HDF5 file.");
    }
    // Before the first variable-length read (attributes included: they usually share these heap collections).
    for (const char* strings : {"/tokens/pieces", "/tokens/text"})
        if (io.exists(file.get(), strings))
            h5CheckVlenHeap(io, file.get(), io.openDataset(file.get(), strings).get(), strings);
    readIdentity();
    readTokens();
    readProbe();
    source = std::make_unique<RunTileSource>(io, shape, layout.scale, openAttention());
    layout.fullProbs = source->hasProbs();
    layout.qk = source->hasQk();
    layout.pyramidLevels = source->pyramidLevels();
    openStatsAndOutput();
}

void RunReader::Impl::readIdentity() {
    const hid_t root = file.get();
    const std::string name = path.string();
    if (!io.hasAttr(root, "format") || io.readStringAttr(root, "format", "/") != kRunFormatName)
        throw FormatError("'" + name + "' is an HDF5 file but not an attnscope run (its root attribute 'format' is " +
                          "not '" + kRunFormatName + "').");
    const int64_t version = io.readIntAttr(root, "format_version", "/");
    if (version > kRunFormatVersion)
        throw UnsupportedError("Run file '" + name + "' was written by a newer attnscope (format_version " +
                               std::to_string(version) + "; this build reads " + std::to_string(kRunFormatVersion) +
                               ").");
    // Older versions get their own explicit branch here when version 2 exists; nothing before 1 ever shipped.
    if (version < 1) io.malformed("format_version " + std::to_string(version) + " is not a version of this format");
    formatVersion = int(version);
    created = io.readStringAttr(root, "created", "/");
    producer = io.readStringAttr(root, "producer", "/");

    H5Group group = io.openGroup(root, "/model");
    const hid_t g = group.get();
    model.architecture = io.readStringAttr(g, "architecture", "/model");
    model.nLayers = io.readIntAttr(g, "n_layers", "/model");
    model.nHeads = io.readIntAttr(g, "n_heads", "/model");
    model.nKvHeads = io.readIntAttr(g, "n_kv_heads", "/model");
    model.headDim = io.readIntAttr(g, "head_dim", "/model");
    model.vocabSize = io.readIntAttr(g, "vocab_size", "/model");
    model.source = io.readStringAttr(g, "source", "/model");
    model.weightsSha256 = io.readStringAttr(g, "weights_sha256", "/model");
    if (model.nLayers <= 0 || model.nHeads <= 0 || model.nKvHeads <= 0 || model.headDim <= 0 ||
        model.nHeads % model.nKvHeads != 0)
        io.malformed("/model describes an impossible shape (layers " + std::to_string(model.nLayers) + ", heads " +
                     std::to_string(model.nHeads) + ", KV heads " + std::to_string(model.nKvHeads) + ", head size " +
                     std::to_string(model.headDim) + ")");
    shape.layers = model.nLayers, shape.heads = model.nHeads, shape.kvHeads = model.nKvHeads;
    shape.headDim = model.headDim;
}

void RunReader::Impl::readTokens() {
    const hid_t root = file.get();
    H5Dataset ids = io.openDataset(root, "/tokens/ids");
    const H5Dims idDims = io.dims(ids.get(), "/tokens/ids");
    if (idDims.size() != 1 || idDims[0] == 0) io.malformed("dataset /tokens/ids is not a non-empty list of ids");
    const hsize_t t = idDims[0];
    shape.tokens = layout.tokens = int64_t(t);
    ids = io.openChecked(root, "/tokens/ids", H5T_INTEGER, {t});
    tokens.ids.resize(t);
    io.readAll(ids.get(), H5T_NATIVE_INT32, tokens.ids.data(), "/tokens/ids");
    tokens.pieces = io.readStrings(io.openChecked(root, "/tokens/pieces", H5T_STRING, {t}).get(), "/tokens/pieces");
    tokens.spans.resize(t);
    io.readAll(io.openChecked(root, "/tokens/spans", H5T_INTEGER, {t, 2}).get(), H5T_NATIVE_INT64, tokens.spans.data(),
               "/tokens/spans");
    tokens.text = io.readScalarString(io.openDataset(root, "/tokens/text").get(), "/tokens/text");
    tokens.generated.resize(t);
    io.readAll(io.openChecked(root, "/tokens/generated", H5T_INTEGER, {t}).get(), H5T_NATIVE_UINT8,
               tokens.generated.data(), "/tokens/generated");
    for (size_t i = 0; i < t; ++i) {
        const auto& [b, e] = tokens.spans[i];
        if (b < 0 || b > e || e > int64_t(tokens.text.size()))
            io.malformed("the span of token " + std::to_string(i) + " in /tokens/spans lies outside /tokens/text");
    }
}

void RunReader::Impl::readProbe() {
    const hid_t root = file.get();
    if (!io.exists(root, "/probe")) return; // not a probe run, or a file from before /probe existed
    H5Group group = io.openGroup(root, "/probe");
    const hid_t g = group.get();
    probe.kind = io.readStringAttr(g, "kind", "/probe");
    probe.seed = static_cast<uint64_t>(io.readIntAttr(g, "seed", "/probe"));
    probe.period = io.readIntAttr(g, "period", "/probe");
    probe.repeats = io.readIntAttr(g, "repeats", "/probe");
    probe.bosId = io.readIntAttr(g, "bos_id", "/probe");
    probe.idLow = io.readIntAttr(g, "id_low", "/probe");
    probe.idHigh = io.readIntAttr(g, "id_high", "/probe");
    probe.distinct = io.readIntAttr(g, "distinct", "/probe") != 0;
    probe.batchIndex = io.readIntAttr(g, "batch_index", "/probe");
    probe.batchSize = io.readIntAttr(g, "batch_size", "/probe");
    if (probe.kind.empty() || probe.period < 1 || probe.repeats < 1 || probe.length() != shape.tokens ||
        probe.batchIndex < 0 || probe.batchIndex >= probe.batchSize)
        io.malformed("/probe describes " + std::to_string(probe.repeats) + " x " + std::to_string(probe.period) +
                     " tokens (batch index " + std::to_string(probe.batchIndex) + " of " +
                     std::to_string(probe.batchSize) + ") for a run of " + std::to_string(shape.tokens));
    if (probe.bos() && tokens.ids[0] != probe.bosId)
        io.malformed("/probe names BOS " + std::to_string(probe.bosId) + " but /tokens/ids starts with " +
                     std::to_string(tokens.ids[0]));
    // Scores read only positions, so tokens that do not repeat as /probe says would be scored silently wrong.
    const size_t first = probe.bos() ? 1 : 0, period = size_t(probe.period);
    for (size_t i = first; i + period < tokens.ids.size(); ++i)
        if (tokens.ids[i] != tokens.ids[i + period])
            io.malformed("/tokens/ids do not repeat every " + std::to_string(period) + " tokens as /probe says");
}

RunTileSource::Datasets RunReader::Impl::openAttention() {
    const hid_t root = file.get();
    const hsize_t l = hsize_t(shape.layers), h = hsize_t(shape.heads), t = hsize_t(shape.tokens);
    RunTileSource::Datasets sets;
    H5Group attention = io.openGroup(root, "/attention");
    layout.scale = io.readDoubleAttr(attention.get(), "scale", "/attention");
    if (io.exists(root, "/attention/probs"))
        sets.probs = io.openChecked(root, "/attention/probs", H5T_FLOAT, {l, h, t, t}, true);
    if (io.exists(root, "/attention/pyramid")) {
        for (const std::string& name :
             io.children(io.openGroup(root, "/attention/pyramid").get(), "/attention/pyramid")) {
            int level = 0;
            const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), level);
            if (ec != std::errc() || end != name.data() + name.size() || level < 1 || level > 40)
                io.malformed("/attention/pyramid/" + name + " is not named after a pyramid level");
            const hsize_t n = hsize_t(pyramidSize(shape.tokens, level));
            sets.pyramid[level] = {io.openChecked(root, runPyramidPath(level, false), H5T_FLOAT, {l, h, n, n}, true),
                                   io.openChecked(root, runPyramidPath(level, true), H5T_FLOAT, {l, h, n, n}, true)};
        }
    }
    if (io.exists(root, "/qk")) {
        const hsize_t hkv = hsize_t(shape.kvHeads), d = hsize_t(shape.headDim);
        sets.q = io.openChecked(root, "/qk/q", H5T_FLOAT, {l, h, t, d}, true);
        sets.k = io.openChecked(root, "/qk/k", H5T_FLOAT, {l, hkv, t, d}, true);
        sets.lse = io.openChecked(root, "/qk/lse", H5T_FLOAT, {l, h, t});
        if (io.exists(root, "/qk/q_lo")) {
            sets.qLo = io.openChecked(root, "/qk/q_lo", H5T_FLOAT, {l, h, t, d}, true);
            sets.kLo = io.openChecked(root, "/qk/k_lo", H5T_FLOAT, {l, hkv, t, d}, true);
        }
    }
    return sets;
}

void RunReader::Impl::openStatsAndOutput() {
    const hid_t root = file.get();
    const hsize_t l = hsize_t(shape.layers), h = hsize_t(shape.heads), t = hsize_t(shape.tokens);
    for (const char* name : kRunFloatStats)
        stats[name] = io.openChecked(root, std::string("/stats/") + name, H5T_FLOAT, {l, h, t});
    stats["top1"] = io.openChecked(root, "/stats/top1", H5T_INTEGER, {l, h, t});
    stats["value_norm"] = io.openChecked(root, "/stats/value_norm", H5T_FLOAT, {l, hsize_t(shape.kvHeads), t});
    if (io.exists(root, "/stats/residual_norm"))
        residual = io.openChecked(root, "/stats/residual_norm", H5T_FLOAT, {l + 1, t});
    if (io.exists(root, "/stats/residual_abs_median")) {
        const hsize_t k = kResidualTop;
        residualMedian = io.openChecked(root, "/stats/residual_abs_median", H5T_FLOAT, {l + 1});
        residualTopValue = io.openChecked(root, "/stats/residual_top_value", H5T_FLOAT, {l + 1, k});
        residualTopToken = io.openChecked(root, "/stats/residual_top_token", H5T_INTEGER, {l + 1, k});
        residualTopDim = io.openChecked(root, "/stats/residual_top_dim", H5T_INTEGER, {l + 1, k});
    }
    if (io.exists(root, "/output")) {
        loss = io.openChecked(root, "/output/loss", H5T_FLOAT, {t});
        topkIds = io.openChecked(root, "/output/topk_ids", H5T_INTEGER, {t, hsize_t(kTopK)});
        topkProbs = io.openChecked(root, "/output/topk_probs", H5T_FLOAT, {t, hsize_t(kTopK)});
    }
}

RunReader::RunReader(const std::filesystem::path& path, size_t cacheBytes)
    : m_impl(std::make_unique<Impl>(path, cacheBytes)) {
    h5Silence();
    m_impl->open();
}

RunReader::~RunReader() = default;

const std::filesystem::path& RunReader::path() const {
    return m_impl->path;
}
const RunModelInfo& RunReader::model() const {
    return m_impl->model;
}
const RunTokens& RunReader::tokens() const {
    return m_impl->tokens;
}
const RunLayout& RunReader::layout() const {
    return m_impl->layout;
}
const RunProbe& RunReader::probe() const {
    return m_impl->probe;
}
size_t RunReader::cacheBytesUsed() const {
    return m_impl->cache.bytesUsed();
}
uint64_t RunReader::cacheHits() const {
    return m_impl->cache.hits();
}
uint64_t RunReader::cacheMisses() const {
    return m_impl->cache.misses();
}

RunSummary RunReader::summary() const {
    Impl& m = *m_impl;
    h5Silence();
    RunSummary s;
    s.formatVersion = m.formatVersion;
    s.created = m.created, s.producer = m.producer;
    s.tokens = m.shape.tokens;
    s.generatedTokens =
        std::count_if(m.tokens.generated.begin(), m.tokens.generated.end(), [](uint8_t g) { return g; });
    s.fullProbs = m.layout.fullProbs, s.qk = m.layout.qk, s.stats = true, s.output = m.loss.has_value();
    s.pyramidLevels = m.layout.pyramidLevels;
    if (m.io.exists(m.file.get(), "/analysis"))
        s.analyses = m.io.children(m.io.openGroup(m.file.get(), "/analysis").get(), "/analysis");
    std::error_code error;
    const auto bytes = std::filesystem::file_size(m.path, error);
    s.fileBytes = error ? 0 : uint64_t(bytes);
    return s;
}

Tile RunReader::tile(int64_t layer, int64_t head, int level, int64_t row0, int64_t col0, int64_t size,
                     TileReduce reduce) {
    Impl& m = *m_impl;
    h5Silence();
    // Level 0 has one value per cell whatever the reduction: share its cache entries.
    const TileKey key{layer, head, level, row0, col0, size, level == 0 ? TileReduce::Mean : reduce};
    if (auto hit = m.cache.find(key)) return std::move(*hit);
    Tile t = m.source->tile(layer, head, level, row0, col0, size, reduce);
    m.cache.insert(key, t);
    return t;
}

std::vector<float> RunReader::block(int64_t layer, int64_t head, int64_t row0, int64_t col0, int64_t rows,
                                   int64_t cols) {
    h5Silence();
    return m_impl->source->block(layer, head, row0, col0, rows, cols);
}

std::vector<float> RunReader::layerStat(const std::string& name, int64_t layer) {
    Impl& m = *m_impl;
    h5Silence();
    const H5Dataset* dataset = nullptr;
    std::string what = "/stats/" + name;
    if (name == "lse") {
        if (!m.source->lse())
            throw UnsupportedError("Run file '" + m.path.string() + "' holds no /qk/lse (it was stored without Q/K).");
        dataset = &*m.source->lse();
        what = "/qk/lse";
    } else if (std::find(kRunFloatStats.begin(), kRunFloatStats.end(), name) != kRunFloatStats.end()) {
        dataset = &m.stats.at(name);
    }
    if (!dataset || layer < 0 || layer >= m.shape.layers)
        throw ArgumentError("Run file '" + m.path.string() + "' has no statistic '" + name + "' for layer " +
                            std::to_string(layer) + ".");
    return m.readLayer<float>(*dataset, H5T_NATIVE_FLOAT, m.shape.heads, layer, what);
}

std::vector<int32_t> RunReader::layerTop1(int64_t layer) {
    Impl& m = *m_impl;
    h5Silence();
    m.checkLayer(layer);
    return m.readLayer<int32_t>(m.stats.at("top1"), H5T_NATIVE_INT32, m.shape.heads, layer, "/stats/top1");
}

std::vector<float> RunReader::valueNorms(int64_t layer) {
    Impl& m = *m_impl;
    h5Silence();
    m.checkLayer(layer);
    return m.readLayer<float>(m.stats.at("value_norm"), H5T_NATIVE_FLOAT, m.shape.kvHeads, layer,
                              "/stats/value_norm");
}

RunOutput RunReader::output() {
    Impl& m = *m_impl;
    h5Silence();
    RunOutput out;
    if (!m.loss) return out;
    const size_t t = size_t(m.shape.tokens);
    out.loss.resize(t), out.topkIds.resize(t * kTopK), out.topkProbs.resize(t * kTopK);
    m.io.readAll(m.loss->get(), H5T_NATIVE_FLOAT, out.loss.data(), "/output/loss");
    m.io.readAll(m.topkIds->get(), H5T_NATIVE_INT32, out.topkIds.data(), "/output/topk_ids");
    m.io.readAll(m.topkProbs->get(), H5T_NATIVE_FLOAT, out.topkProbs.data(), "/output/topk_probs");
    return out;
}

std::vector<float> RunReader::residualNorms() {
    Impl& m = *m_impl;
    h5Silence();
    if (!m.residual) return {};
    std::vector<float> values(size_t((m.shape.layers + 1) * m.shape.tokens));
    m.io.readAll(m.residual->get(), H5T_NATIVE_FLOAT, values.data(), "/stats/residual_norm");
    return values;
}

ResidualExtremes RunReader::residualExtremes() {
    Impl& m = *m_impl;
    h5Silence();
    ResidualExtremes e;
    if (!m.residualMedian) return e;
    e.states = m.shape.layers + 1;
    const size_t s = size_t(e.states);
    e.absMedian.resize(s), e.topValue.resize(s * kResidualTop), e.topToken.resize(s * kResidualTop);
    e.topDim.resize(s * kResidualTop);
    m.io.readAll(m.residualMedian->get(), H5T_NATIVE_FLOAT, e.absMedian.data(), "/stats/residual_abs_median");
    m.io.readAll(m.residualTopValue->get(), H5T_NATIVE_FLOAT, e.topValue.data(), "/stats/residual_top_value");
    m.io.readAll(m.residualTopToken->get(), H5T_NATIVE_INT32, e.topToken.data(), "/stats/residual_top_token");
    m.io.readAll(m.residualTopDim->get(), H5T_NATIVE_INT32, e.topDim.data(), "/stats/residual_top_dim");
    return e;
}

AnalysisResult RunReader::analysis(const std::string& name) {
    Impl& m = *m_impl;
    h5Silence();
    return readAnalysisGroup(m.io, m.file.get(), name);
}

} // namespace attnscope::core

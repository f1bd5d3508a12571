#include "store/run_writer.hpp"

#include "store/run_writer_impl.hpp"

#include "store/run_paths.hpp"

#include <algorithm>
#include <map>

namespace attnscope::core {

namespace {

size_t nextPrime(size_t n) {
    auto prime = [](size_t v) {
        for (size_t f = 2; f * f <= v; ++f)
            if (v % f == 0) return false;
        return v > 1;
    };
    while (!prime(n))
        ++n;
    return n;
}

} // namespace

RunWriter::Impl::~Impl() {
    if (registered) releaseTemporaryPath(tempPath);
}

void RunWriter::Impl::create(const RunModelInfo& model, const RunTokens& tokens) {
    L = model.nLayers, H = model.nHeads, Hkv = model.nKvHeads, d = model.headDim, T = layout.tokens;
    if (L <= 0 || H <= 0 || Hkv <= 0 || d <= 0 || H % Hkv != 0)
        badArgument("the model shape (layers " + std::to_string(L) + ", heads " + std::to_string(H) + ", KV heads " +
                    std::to_string(Hkv) + ", head size " + std::to_string(d) + ") is not valid");
    if (T <= 0) badArgument("a run needs at least one token");
    const size_t n = size_t(T);
    if (tokens.ids.size() != n || tokens.pieces.size() != n || tokens.spans.size() != n || tokens.generated.size() != n)
        badArgument("the layout has " + std::to_string(T) + " tokens but the ids, pieces, spans and generated flags " +
                    "have " + std::to_string(tokens.ids.size()) + ", " + std::to_string(tokens.pieces.size()) + ", " +
                    std::to_string(tokens.spans.size()) + " and " + std::to_string(tokens.generated.size()));
    for (size_t i = 0; i < n; ++i) {
        const auto& [b, e] = tokens.spans[i];
        if (b < 0 || b > e || e > int64_t(tokens.text.size()))
            badArgument("the span of token " + std::to_string(i) + " lies outside the text");
    }
    // Variable-length HDF5 strings end at the first NUL; one inside would silently cut the text short.
    if (tokens.text.find('\0') != std::string::npos) badArgument("the text contains a NUL byte");
    for (size_t i = 0; i < n; ++i)
        if (tokens.pieces[i].find('\0') != std::string::npos)
            badArgument("the piece of token " + std::to_string(i) + " contains a NUL byte");
    for (int level : layout.pyramidLevels)
        if (level < 1 || level > 30) badArgument("pyramid level " + std::to_string(level) + " is out of range");

    if (!claimTemporaryPath(tempPath)) badArgument("another writer in this process is writing it");
    registered = true;
    h5Silence();
    std::error_code ignored;
    std::filesystem::remove(tempPath, ignored); // a stale file from a crashed process that had our pid
    H5Plist fapl(H5Pcreate(H5P_FILE_ACCESS));
    // Strong close: closing the file closes everything inside it, so an error path cannot leave it open.
    // The 1.10 format checksums object headers, chunk indexes and the superblock, so a corrupted file is reported
    // instead of being parsed; every HDF5 since 1.10 (and h5py built on it) reads it.
    if (!fapl || H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG) < 0 ||
        H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V110, H5F_LIBVER_LATEST) < 0)
        throw FileError("Cannot create '" + tempPath.string() + "'" + h5Detail() + ".");
    file = H5File(H5Fcreate(tempPath.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, fapl.get()));
    if (!file) throw FileError("Cannot create the run file '" + tempPath.string() + "'" + h5Detail() + ".");

    const hid_t root = file.get();
    io.writeAttr(root, "format", std::string(kRunFormatName));
    io.writeAttr(root, "format_version", int64_t(kRunFormatVersion));
    io.writeAttr(root, "created", utcTimestamp());
    io.writeAttr(root, "producer", std::string("attnscope ") + ATTNSCOPE_VERSION);

    H5Group modelGroup = io.createGroup(root, "/model");
    io.writeAttr(modelGroup.get(), "architecture", model.architecture);
    io.writeAttr(modelGroup.get(), "n_layers", L);
    io.writeAttr(modelGroup.get(), "n_heads", H);
    io.writeAttr(modelGroup.get(), "n_kv_heads", Hkv);
    io.writeAttr(modelGroup.get(), "head_dim", d);
    io.writeAttr(modelGroup.get(), "vocab_size", model.vocabSize);
    io.writeAttr(modelGroup.get(), "source", model.source);
    io.writeAttr(modelGroup.get(), "weights_sha256", model.weightsSha256);

    writeTokens(tokens);
    createDatasets();
    io.createGroup(root, "/analysis");
    layerDone.assign(size_t(L), 0);
    if (layout.fullProbs) rowDone.assign(size_t(L * T), 0);
}

void RunWriter::Impl::writeTokens(const RunTokens& tokens) {
    const hid_t root = file.get();
    io.createGroup(root, "/tokens");
    const hsize_t t = hsize_t(T);
    const hsize_t chunk = clampChunk(T, kRunTokenChunk);
    auto ids = io.createDataset(root, "/tokens/ids", H5T_STD_I32LE, {t}, {chunk}, kRunDeflate);
    io.writeAll(ids.get(), H5T_NATIVE_INT32, tokens.ids.data(), "/tokens/ids");

    const H5Type utf8 = h5Utf8Type();
    std::vector<const char*> pieces(tokens.pieces.size());
    for (size_t i = 0; i < pieces.size(); ++i)
        pieces[i] = tokens.pieces[i].c_str();
    // Contiguous: HDF5 accepts no filter (so no checksum) on variable-length data.
    auto pieceSet = io.createDataset(root, "/tokens/pieces", utf8.get(), {t});
    io.writeAll(pieceSet.get(), utf8.get(), pieces.data(), "/tokens/pieces");

    auto spans = io.createDataset(root, "/tokens/spans", H5T_STD_I64LE, {t, 2}, {chunk, 2}, kRunDeflate);
    io.writeAll(spans.get(), H5T_NATIVE_INT64, tokens.spans.data(), "/tokens/spans");

    H5Space scalar(H5Screate(H5S_SCALAR));
    H5Dataset text(H5Dcreate2(root, "/tokens/text", utf8.get(), scalar.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    const char* textPtr = tokens.text.c_str();
    if (!text) throw FileError("Cannot write /tokens/text to '" + tempPath.string() + "'" + h5Detail() + ".");
    io.writeAll(text.get(), utf8.get(), &textPtr, "/tokens/text");

    auto generated = io.createDataset(root, "/tokens/generated", H5T_STD_U8LE, {t}, {chunk}, kRunDeflate);
    io.writeAll(generated.get(), H5T_NATIVE_UINT8, tokens.generated.data(), "/tokens/generated");
}

H5Plist RunWriter::Impl::mapAccessList() const {
    // Rows arrive in bands shorter than a chunk; keeping one chunk-row of every head cached means each chunk is
    // compressed once when complete instead of being re-read and re-compressed for every band.
    const hsize_t c = clampChunk(T, kRunMapChunk);
    const size_t chunks = size_t(H * ((T + int64_t(c) - 1) / int64_t(c)) * 2);
    const size_t bytes = std::min<size_t>(chunks * c * c * 2, size_t(512) << 20);
    H5Plist dapl(H5Pcreate(H5P_DATASET_ACCESS));
    if (!dapl || H5Pset_chunk_cache(dapl.get(), nextPrime(chunks * 10 + 1), bytes, 1.0) < 0)
        throw FileError("Cannot configure /attention/probs in '" + tempPath.string() + "'" + h5Detail() + ".");
    return dapl;
}

void RunWriter::Impl::createDatasets() {
    const hid_t root = file.get();
    const hsize_t l = hsize_t(L), h = hsize_t(H), hkv = hsize_t(Hkv), t = hsize_t(T), dd = hsize_t(d);
    const hsize_t tokenChunk = clampChunk(T, kRunTokenChunk);

    H5Group attention = io.createGroup(root, "/attention");
    io.writeAttr(attention.get(), "scale", layout.scale);
    if (layout.fullProbs) {
        const hsize_t c = clampChunk(T, kRunMapChunk);
        createLayerDataset("/attention/probs", half.get(), {l, h, t, t}, {1, 1, c, c}, kRunDeflate,
                           mapAccessList().get());
    }
    std::vector<int> levels = layout.pyramidLevels;
    std::sort(levels.begin(), levels.end());
    levels.erase(std::unique(levels.begin(), levels.end()), levels.end());
    layout.pyramidLevels = levels;
    if (!levels.empty()) {
        io.createGroup(root, "/attention/pyramid");
        io.createGroup(root, "/attention/pyramid_max");
    }
    for (int level : levels) {
        const hsize_t n = hsize_t(pyramidSize(T, level)), c = clampChunk(int64_t(n), kRunMapChunk);
        for (bool max : {false, true})
            createLayerDataset(runPyramidPath(level, max), half.get(), {l, h, n, n}, {1, 1, c, c}, kRunDeflate);
    }

    if (layout.qk) {
        io.createGroup(root, "/qk");
        const hsize_t rows = clampChunk(T, kRunQkChunkRows);
        createLayerDataset("/qk/q", half.get(), {l, h, t, dd}, {1, 1, rows, dd}, kRunQkDeflate);
        createLayerDataset("/qk/k", half.get(), {l, hkv, t, dd}, {1, 1, rows, dd}, kRunQkDeflate);
        createLayerDataset("/qk/lse", H5T_IEEE_F32LE, {l, h, t}, {1, 1, tokenChunk}, kRunDeflate);
        if (layout.qkLow) {
            createLayerDataset("/qk/q_lo", half.get(), {l, h, t, dd}, {1, 1, rows, dd}, kRunQkDeflate);
            createLayerDataset("/qk/k_lo", half.get(), {l, hkv, t, dd}, {1, 1, rows, dd}, kRunQkDeflate);
        }
    }

    io.createGroup(root, "/stats");
    for (size_t i = 0; i < kRunFloatStats.size(); ++i)
        createLayerDataset(std::string("/stats/") + kRunFloatStats[i], H5T_IEEE_F32LE, {l, h, t}, {1, 1, tokenChunk},
                           kRunDeflate);
    createLayerDataset("/stats/top1", H5T_STD_I32LE, {l, h, t}, {1, 1, tokenChunk}, kRunDeflate);
    createLayerDataset("/stats/value_norm", H5T_IEEE_F32LE, {l, hkv, t}, {1, 1, tokenChunk}, kRunDeflate);
}

void RunWriter::Impl::createLayerDataset(const std::string& path, hid_t type, const H5Dims& dims, const H5Dims& chunk,
                                         int deflate, hid_t accessList) {
    layerSets[path] = {io.createDataset(file.get(), path, type, dims, chunk, deflate, accessList), dims, chunk,
                       ChunkFilters{H5Tget_size(type), deflate, true}};
}

RunWriter::RunWriter(const std::filesystem::path& finalPath, const RunModelInfo& model, const RunTokens& tokens,
                     const RunLayout& layout)
    : m_impl(std::make_unique<Impl>(finalPath)) {
    m_impl->layout = layout;
    try {
        m_impl->create(model, tokens);
    } catch (...) {
        m_impl->closeAll();
        std::error_code ignored;
        if (m_impl->registered) std::filesystem::remove(m_impl->tempPath, ignored); // only a name we own
        throw;
    }
}

RunWriter::~RunWriter() {
    if (!m_impl || m_impl->committed || !m_impl->registered) return;
    // Never throws: closing may fail on a broken file, and the half-written file goes either way.
    m_impl->closeAll();
    std::error_code ignored;
    std::filesystem::remove(m_impl->tempPath, ignored);
}

const std::filesystem::path& RunWriter::temporaryPath() const {
    return m_impl->tempPath;
}

void RunWriter::commit() {
    Impl& m = *m_impl;
    h5Silence();
    if (m.committed) m.badArgument("commit() was called twice");
    // A layer never written would read back as zeros that look like data: refuse instead.
    for (int64_t l = 0; l < m.L; ++l) {
        if (!m.layerDone[size_t(l)]) m.badArgument("layer " + std::to_string(l) + " was never written");
        if (m.layout.fullProbs && std::find(m.rowDone.begin() + l * m.T, m.rowDone.begin() + (l + 1) * m.T, 0) !=
                                      m.rowDone.begin() + (l + 1) * m.T)
            m.badArgument("some rows of the full maps of layer " + std::to_string(l) + " were never written");
    }
    const std::string temp = m.tempPath.string();
    if (H5Fflush(m.file.get(), H5F_SCOPE_GLOBAL) < 0)
        throw FileError("Cannot flush the run file '" + temp + "'" + h5Detail() + ".");
    for (H5Dataset* ds : {&m.residualNorm, &m.loss, &m.topkIds, &m.topkProbs})
        ds->reset();
    m.layerSets.clear();
    if (!m.file.close()) throw FileError("Cannot close the run file '" + temp + "'" + h5Detail() + ".");
    syncAndRename(m.tempPath, m.finalPath);
    m.committed = true;
}

} // namespace attnscope::core

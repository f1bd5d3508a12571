#include "attention_import.hpp"

#include "attention_stack.hpp"
#include "errors.hpp"
#include "import_format.hpp"
#include "importer_hdf5.hpp"
#include "importer_npz.hpp"
#include "importer_safetensors.hpp"
#include "map_capture.hpp"
#include "model/tensor_data.hpp"
#include "npy_format.hpp"
#include "store/run_writer.hpp"
#include "token_list.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace attnscope::importers {

namespace {

constexpr int64_t kRowsPerBand = 256; // one chunk row of /attention/probs per write

std::vector<ImportedArray> readArrays(const std::filesystem::path& path) {
    std::error_code error;
    if (!std::filesystem::is_regular_file(path, error))
        throw core::FileError(fmt::format("Cannot import '{}': it does not exist or is not a file.", path.string()));
    std::vector<ImportedArray> arrays;
    const ImportFormat format = detectImportFormat(path);
    switch (format) {
    case ImportFormat::Npy: arrays.push_back(readNpy(path)); break;
    case ImportFormat::Npz: arrays = readNpz(path); break;
    case ImportFormat::Safetensors: arrays = readSafetensorsArrays(path); break;
    case ImportFormat::Hdf5: arrays = readHdf5Arrays(path); break;
    default:
        throw core::UnsupportedError(fmt::format("Cannot import '{}': it is not a .npy, .npz, safetensors or HDF5 "
                                                 "file (its first bytes look like {}).",
                                                 path.string(), importFormatName(format)));
    }
    std::stable_sort(arrays.begin(), arrays.end(),
                     [](const ImportedArray& a, const ImportedArray& b) { return naturalLess(a.name, b.name); });
    return arrays;
}

} // namespace

AttentionImportResult importAttention(const AttentionImportRequest& request) {
    if (request.inputs.empty()) throw core::ArgumentError("Nothing to import: no attention file was given.");
    std::vector<ImportedArray> arrays;
    std::string inputs, source;
    for (const auto& path : request.inputs) {
        for (ImportedArray& a : readArrays(path))
            arrays.push_back(std::move(a));
        inputs += (inputs.empty() ? "'" : ", '") + path.string() + "'";
        source += (source.empty() ? "" : " ") + path.string();
    }
    const core::RunTokens tokens = readTokenList(request.tokens);
    const AttentionStack stack(std::move(arrays), request.batch, inputs);
    const int64_t L = stack.layers(), H = stack.heads(), T = stack.tokens();
    if (T != int64_t(tokens.pieces.size()))
        throw core::FormatError(fmt::format("The attention in {} covers {} tokens but the token file '{}' lists {}.",
                                            inputs, T, request.tokens.string(), tokens.pieces.size()));
    const int64_t kv = request.kvHeads > 0 ? request.kvHeads : H;
    if (H % kv != 0)
        throw core::ArgumentError(fmt::format("Cannot import {}: {} KV heads do not divide its {} heads.", inputs, kv,
                                              H));

    core::RunModelInfo model;
    model.architecture = request.architecture;
    model.nLayers = L, model.nHeads = H, model.nKvHeads = kv;
    model.headDim = 1; // unknown to a dump of probabilities; the run holds no Q/K that would need it
    model.vocabSize = int64_t(*std::max_element(tokens.ids.begin(), tokens.ids.end())) + 1;
    model.source = request.source.empty() ? source : request.source;
    core::RunLayout layout;
    layout.tokens = T, layout.fullProbs = true, layout.qk = false;
    layout.pyramidLevels = importPyramidLevels(T);

    core::RunWriter writer(request.out, model, tokens, layout);
    std::vector<uint16_t> band;
    for (int64_t l = 0; l < L; ++l) {
        const float* maps = stack.layer(l);
        checkAttentionLayer(maps, H, T, stack.layerOrigin(l), l);
        for (int64_t r0 = 0; r0 < T; r0 += kRowsPerBand) {
            const int64_t rows = std::min(kRowsPerBand, T - r0);
            band.resize(size_t(H * rows * T));
            for (int64_t h = 0; h < H; ++h)
                for (int64_t r = 0; r < rows; ++r)
                    for (int64_t k = 0; k < T; ++k)
                        band[size_t((h * rows + r) * T + k)] = core::floatToHalf(maps[(h * T + r0 + r) * T + k]);
            writer.writeProbRows(l, r0, rows, band.data());
        }
        writer.writeLayer(l, captureFromMaps(maps, H, T, kv, layout.pyramidLevels));
    }
    writer.commit();
    return {L, H, T, layout.pyramidLevels, stack.used(), stack.skipped()};
}

} // namespace attnscope::importers

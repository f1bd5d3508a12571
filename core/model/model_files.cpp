#include "model/model_files.hpp"

#include "errors.hpp"
#include "model/gguf_file.hpp"
#include "model/gguf_model.hpp"
#include "model/hf_config.hpp"
#include "model/hf_weights.hpp"
#include "model/mapped_file.hpp"
#include "model/safetensors.hpp"
#include "model/sha256.hpp"
#include "model/tokenizer.hpp"

#include <cstring>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <set>

namespace attnscope::core {

namespace {

// The dtype of the weight matrices: 1-D norms are often kept in F32 beside F16 or Q8_0 matrices, and calling such a
// file "mixed" would hide what the user cares about.
std::string weightsDtypeOf(const TensorSet& tensors) {
    std::set<std::string> matrices, all;
    for (const auto& [name, t] : tensors) {
        all.insert(dtypeName(t.dtype));
        if (t.shape.size() >= 2) matrices.insert(dtypeName(t.dtype));
    }
    const auto& pick = matrices.empty() ? all : matrices;
    return pick.size() == 1 ? *pick.begin() : "mixed";
}

// Hash of the weight files' bytes, concatenated in the order given (one file: equals `sha256sum` of it).
std::string sha256Files(const std::vector<std::filesystem::path>& files) {
    Sha256 hash;
    for (const auto& f : files) {
        const MappedFile mapped(f);
        hash.update(mapped.data(), mapped.size());
    }
    return hash.hexDigest();
}

ModelFiles loadHfFolder(const std::filesystem::path& folder, bool computeSha256) {
    const auto configPath = folder / "config.json";
    if (!std::filesystem::is_regular_file(configPath))
        throw FileError(
            fmt::format("'{}' has no config.json, so it is not a Hugging Face model folder.", folder.string()));
    ModelFiles m;
    m.format = "safetensors";
    m.config = parseHfConfig(configPath);

    const auto single = folder / "model.safetensors";
    const auto index = folder / "model.safetensors.index.json";
    std::filesystem::path weightsFile;
    TensorSet stored;
    std::vector<std::filesystem::path> weightFiles;
    if (std::filesystem::is_regular_file(single)) {
        weightsFile = single;
        stored = readSafetensors(single);
        weightFiles = {single};
    } else if (std::filesystem::is_regular_file(index)) {
        weightsFile = index;
        stored = readSafetensorsIndex(index);
        std::set<std::string> shards; // sorted by name, so the hash does not depend on the index's key order
        for (const auto& [name, t] : stored)
            shards.insert(t.file);
        weightFiles.assign(shards.begin(), shards.end());
    } else {
        const bool hasBin = std::filesystem::exists(folder / "pytorch_model.bin");
        throw FileError(fmt::format("'{}' has no model.safetensors or model.safetensors.index.json{}.", folder.string(),
                                    hasBin ? " (pytorch_model.bin is not read: convert it to safetensors)" : ""));
    }
    m.tensors = canonicalHfTensors(m.config, stored, weightsFile.string());
    if (computeSha256) m.weightsSha256 = sha256Files(weightFiles);
    if (std::filesystem::is_regular_file(folder / "tokenizer.json")) m.tokenizer = loadHfTokenizer(folder);
    return m;
}

ModelFiles loadGguf(const std::filesystem::path& file, bool computeSha256) {
    const GgufFile gguf(file);
    ModelFiles m;
    m.format = "gguf";
    m.config = ggufModelConfig(gguf);
    m.tensors = canonicalGgufTensors(m.config, gguf);
    if (computeSha256) m.weightsSha256 = sha256Files({file});
    if (gguf.metadata().contains("tokenizer.ggml.tokens")) m.tokenizer = makeGgufTokenizer(gguf.vocab(), file.string());
    return m;
}

// Some converters (llama2.c -> GGUF) store a tied classifier as a byte-identical copy of the embedding: treat it as
// tied, so that it is held once and counted once.
void shareIdenticalClassifier(ModelFiles& m) {
    auto head = m.tensors.find("lm_head.weight"), emb = m.tensors.find("tok_embeddings.weight");
    if (head == m.tensors.end() || emb == m.tensors.end()) return;
    const RawTensor& a = head->second;
    const RawTensor& b = emb->second;
    if (a.dtype == b.dtype && a.shape == b.shape && a.nbytes == b.nbytes && std::memcmp(a.data, b.data, a.nbytes) == 0) {
        m.tensors.erase(head);
        m.config.tiedEmbeddings = true;
    }
}

} // namespace

int64_t countParameters(const TensorSet& tensors) {
    int64_t n = 0;
    for (const auto& [name, tensor] : tensors) n += tensor.numel();
    return n;
}

ModelFiles loadModelFiles(const std::filesystem::path& path, bool computeSha256) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(status)) throw FileError(fmt::format("'{}' does not exist.", path.string()));
    ModelFiles m;
    if (std::filesystem::is_directory(status))
        m = loadHfFolder(path, computeSha256);
    else if (path.extension() == ".gguf")
        m = loadGguf(path, computeSha256);
    else
        throw UnsupportedError(
            fmt::format("'{}' is neither a Hugging Face model folder nor a .gguf file.", path.string()));
    m.source = path.string();
    shareIdenticalClassifier(m);
    m.weightsDtype = weightsDtypeOf(m.tensors);
    return m;
}

} // namespace attnscope::core

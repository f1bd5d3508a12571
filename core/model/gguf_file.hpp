#pragma once
// A GGUF (v2/v3) file, memory-mapped: metadata, tensors (names as stored, shapes in PyTorch order) and vocabulary.
#include "model/tensor_data.hpp"
#include "model/vocab_data.hpp"

#include <nlohmann/json_fwd.hpp>

#include <filesystem>
#include <memory>
#include <string>

namespace attnscope::core {

class MappedFile;

class GgufFile {
public:
    // Parses the header, metadata and tensor table; throws FormatError naming the file on any inconsistency.
    explicit GgufFile(const std::filesystem::path& path);
    ~GgufFile();

    uint32_t version() const { return m_version; }
    const std::filesystem::path& path() const { return m_path; }
    // All metadata key/values; arrays become JSON arrays. Key "general.architecture" etc.
    const nlohmann::json& metadata() const;
    // Tensors with GGUF's dims reversed into PyTorch order (ne[0] is the innermost axis).
    const TensorSet& tensors() const { return m_tensors; }
    // tokenizer.ggml.* metadata; throws FormatError if the file has no vocabulary.
    GgufVocab vocab() const;

private:
    std::filesystem::path m_path;
    uint32_t m_version = 0;
    std::shared_ptr<const MappedFile> m_file;
    std::unique_ptr<nlohmann::json> m_metadata;
    TensorSet m_tensors;
};

} // namespace attnscope::core

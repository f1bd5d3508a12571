#pragma once
// `attnscope-cli import`: attention dumps (.npy, .npz, safetensors, HDF5) plus token strings -> one run file with
// full maps, pyramids and statistics computed from the maps as a capture computes them; no Q/K (docs/run-format.md).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace attnscope::importers {

struct AttentionImportRequest {
    std::vector<std::filesystem::path> inputs; // read in this order; each file's arrays in natural name order
    std::filesystem::path tokens;              // token_list.hpp
    std::filesystem::path out;                 // the run file to write (replaced when it exists)
    int64_t batch = 0;                         // which batch element of [batch, heads, T, T] arrays
    int64_t kvHeads = 0;                       // 0: as many as heads (the dump does not say; GQA models differ)
    std::string architecture = "imported";     // /model/architecture
    std::string source;                        // /model/source; empty: the input paths
};

struct AttentionImportResult {
    int64_t layers = 0, heads = 0, tokens = 0;
    std::vector<int> pyramidLevels;
    std::vector<std::string> used, skipped; // arrays, as "'origin' [shape]"
};

// Throws core::FileError, FormatError, UnsupportedError or ArgumentError, each one sentence naming the file; nothing
// is left under `out` then.
AttentionImportResult importAttention(const AttentionImportRequest& request);

} // namespace attnscope::importers

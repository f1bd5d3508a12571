#pragma once
// Imported arrays read as attention maps [layer][head][query][key] of one batch element, the way Hugging Face's
// output_attentions returns them: one array per layer ([batch, heads, T, T] or [heads, T, T]), or one stacked array
// ([L, batch, heads, T, T] or [L, heads, T, T]). Holds the arrays; layers are views into them, never copies.
#include "imported_array.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace attnscope::importers {

class AttentionStack {
public:
    // `arrays` in import order (files as given, each file's arrays in natural name order). Arrays that are not
    // floating or whose last two axes differ (logits, ids, embeddings) are skipped and listed in skipped().
    // Throws core::FormatError naming the array for a wrong rank, mismatched shapes, or no attention at all, and
    // core::ArgumentError for a batch index outside the arrays' batch.
    AttentionStack(std::vector<ImportedArray> arrays, int64_t batch, const std::string& inputs);

    int64_t layers() const { return int64_t(m_layers.size()); }
    int64_t heads() const { return m_heads; }
    int64_t tokens() const { return m_tokens; }
    // Layer l's maps, [H][T][T] float32, valid while the stack lives.
    const float* layer(int64_t l) const;
    // The file (and entry) layer l came from, for error messages.
    std::string layerOrigin(int64_t l) const;
    const std::vector<std::string>& used() const { return m_used; }       // "origin [shape]" of each array used
    const std::vector<std::string>& skipped() const { return m_skipped; } // "origin [shape]" of each array skipped

private:
    struct Slice {
        size_t array = 0;
        size_t offset = 0; // in values
        int64_t index = -1; // position along a stacked array's layer axis; -1 for per-layer arrays
    };
    std::vector<ImportedArray> m_arrays;
    std::vector<Slice> m_layers;
    int64_t m_heads = 0, m_tokens = 0;
    std::vector<std::string> m_used, m_skipped;
};

// Checks the maps of the run's layer `layer`: every value finite, zero above the causal diagonal, and each row summing
// to 1. Throws core::FormatError naming `origin`, the layer, head and row (NaN rows, rows that do not sum to 1) or
// core::UnsupportedError for bidirectional (non-causal) maps.
void checkAttentionLayer(const float* maps, int64_t heads, int64_t tokens, const std::string& origin, int64_t layer);

} // namespace attnscope::importers

#pragma once
// Exact level-0 attention rows of a run stored without full maps, recomputed from its Q/K/LSE with the same float
// arithmetic as RunReader::block (bit for bit), but fast: each layer's K is read once, Q and LSE once per row block.
// Thread: one caller at a time (HDF5 is not thread-safe; it owns its buffers); rows() computes on OpenMP threads.
#include <cstdint>
#include <memory>
#include <span>

namespace attnscope::core {

class RunReader;

class QkRows {
public:
    // Throws UnsupportedError naming the file when the run stores no Q/K, FormatError when the file cannot be read.
    explicit QkRows(RunReader& reader);
    ~QkRows();

    // Rows [row0, row0 + count) of (layer, head) into out ([count][T], zeros above the diagonal). Holds one layer's K
    // as float32 ([Hkv][d][T], loaded when the layer changes) and one block's Q; asserts on a range outside the map.
    void rows(int64_t layer, int64_t head, int64_t row0, int64_t count, std::span<float> out);

    // Bytes held for the current layer's K and the last block's Q (the recompute's memory, besides one row of dot
    // products per thread while rows() runs).
    size_t bytesHeld() const;

    struct Impl;

private:
    std::unique_ptr<Impl> m_impl;
};

} // namespace attnscope::core

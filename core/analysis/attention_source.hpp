#pragma once
// Where analyses read attention from: rows of one head's map at a time, so that memory stays O(rows x T) at any
// length. Rows are float32 [count][T], row i = query row0 + i, zeros above the causal diagonal, rows sum to 1.
// Thread: one caller at a time per source.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace attnscope::core {

class QkRows;
class RunReader;

class AttentionSource {
public:
    virtual ~AttentionSource() = default;
    virtual int64_t layers() const = 0;
    virtual int64_t heads() const = 0;
    virtual int64_t length() const = 0; // T
    // Writes rows [row0, row0 + count) of (layer, head) into out (count * T floats). Asserts on a range outside the map.
    virtual void rows(int64_t layer, int64_t head, int64_t row0, int64_t count, std::span<float> out) = 0;
    // Rows per call that analyses should use: large enough to amortise a recomputation, small enough for memory.
    virtual int64_t preferredRows() const { return 256; }
};

// An in-memory [L][H][T][T] float32 array (reference arrays, hand-built cases, small runs).
class DenseAttention final : public AttentionSource {
public:
    // Throws ArgumentError when probs.size() != L * H * T * T.
    DenseAttention(int64_t layers, int64_t heads, int64_t length, std::vector<float> probs);
    int64_t layers() const override { return m_layers; }
    int64_t heads() const override { return m_heads; }
    int64_t length() const override { return m_length; }
    void rows(int64_t layer, int64_t head, int64_t row0, int64_t count, std::span<float> out) override;
    float at(int64_t layer, int64_t head, int64_t query, int64_t key) const;

private:
    int64_t m_layers, m_heads, m_length;
    std::vector<float> m_probs;
};

// A run file's maps: the stored full maps when the run kept them, else rows recomputed exactly from Q/K/LSE (the
// same floats as RunReader::block, through QkRows: one layer's K held, no tile cache). The reader must outlive the
// source. Throws (from rows()) UnsupportedError when the run stores neither full maps nor Q/K.
class RunAttention final : public AttentionSource {
public:
    explicit RunAttention(RunReader& reader);
    ~RunAttention() override;
    int64_t layers() const override;
    int64_t heads() const override;
    int64_t length() const override;
    void rows(int64_t layer, int64_t head, int64_t row0, int64_t count, std::span<float> out) override;
    int64_t preferredRows() const override { return 128; }

private:
    RunReader& m_reader;
    std::unique_ptr<QkRows> m_qk; // made on the first recomputed row
};

} // namespace attnscope::core

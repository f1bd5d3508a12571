#pragma once
// Computes tiles of one run's attention: level 0 from /attention/probs or recomputed from Q/K/LSE; coarser levels
// from the stored pyramid or pooled from the finest data there is. Values are float32, [rows][cols], row = query.
#include "store/h5_io.hpp"
#include "store/run_reader.hpp"

#include <array>
#include <map>
#include <optional>

namespace attnscope::core {

// The shape of a run, as its /model and /tokens give it.
struct RunShape {
    int64_t layers = 0, heads = 0, kvHeads = 0, headDim = 0, tokens = 0;
};

class RunTileSource {
public:
    struct Datasets {
        std::optional<H5Dataset> probs;                  // [L,H,T,T] float16
        std::map<int, std::array<H5Dataset, 2>> pyramid; // level -> {mean, max}, [L,H,n,n] float16
        std::optional<H5Dataset> q, k, qLo, kLo, lse;              // [L,H,T,d], [L,Hkv,T,d] float16; [L,H,T] float32
    };

    RunTileSource(H5Io io, RunShape shape, double scale, Datasets datasets);

    // Throws ArgumentError for a layer, head or level outside the run, UnsupportedError when the run holds nothing
    // the tile can be made from, FormatError when the file cannot be read.
    Tile tile(int64_t layer, int64_t head, int level, int64_t row0, int64_t col0, int64_t size,
              TileReduce reduce) const;

    // Level-0 rows [row0, row0 + rows) x keys [col0, col0 + cols), [rows][cols]. Throws ArgumentError for a head or a
    // rectangle outside the run, UnsupportedError when neither full maps nor Q/K are stored.
    std::vector<float> block(int64_t layer, int64_t head, int64_t row0, int64_t col0, int64_t rows,
                             int64_t cols) const;

    bool hasProbs() const { return m_sets.probs.has_value(); }
    bool hasQk() const { return m_sets.q.has_value(); }
    const std::optional<H5Dataset>& lse() const { return m_sets.lse; }
    std::vector<int> pyramidLevels() const;

private:
    // Level-0 values of rows [r0, r0+nr) x cols [c0, c0+nc) into out[nr*nc]; returns where they came from.
    TileSource level0(int64_t layer, int64_t head, int64_t r0, int64_t c0, int64_t nr, int64_t nc,
                      std::vector<float>& out) const;
    void recompute(int64_t layer, int64_t head, int64_t r0, int64_t c0, int64_t nr, int64_t nc,
                   std::vector<float>& out) const;
    void readHalf(hid_t dataset, const std::string& what, int64_t layer, int64_t head, int64_t r0, int64_t c0,
                  int64_t nr, int64_t nc, std::vector<float>& out) const;
    Tile pooled(int64_t layer, int64_t head, int level, int64_t row0, int64_t col0, int64_t rows, int64_t cols,
                TileReduce reduce) const;
    [[noreturn]] void cannotServe(int level) const;

    H5Io m_io;
    RunShape m_shape;
    double m_scale = 0;
    Datasets m_sets;
    H5Type m_half;
};

} // namespace attnscope::core

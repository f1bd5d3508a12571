#pragma once
// What `attnscope-cli export` reads out of a run file: per-head metric and classification tables (one row per query
// head, every [L,H] or [L,Hkv] result under /analysis), the token table, and one head's map or pyramid tile.
#include "export_table.hpp"

#include <cstdint>
#include <string>

namespace attnscope::core {
class RunReader;
}

namespace attnscope::importers {

// Columns layer, head, kv_head, stats.entropy_mean and stats.first_mass_mean (means over the rows of /stats), then
// "<analysis>.<dataset>" for every numeric dataset of shape [L,H], or [L,Hkv] repeated for each query head of the KV
// group, that is not a flag (below).
ExportTable metricsTable(core::RunReader& run);
// Columns layer, head, kv_head, then "<analysis>.<dataset>" for every flag: an int32 dataset of 0s and 1s of shape
// [L,H] or [L,Hkv] (is_sink, retained, full_attention). Throws core::ArgumentError naming the file when there is none.
ExportTable classificationTable(core::RunReader& run);
// Columns index, id, piece, begin, end, generated.
ExportTable tokensTable(core::RunReader& run);

// Half-open cell ranges [q0, q1) x [k0, k1); a negative end means "to the edge".
struct CellRange {
    int64_t q0 = 0, q1 = -1, k0 = 0, k1 = -1;
};
// "q0:q1,k0:k1" (either side may be empty: "0:64," or ":,10:20"); throws core::ArgumentError.
CellRange parseCellRange(const std::string& text);

// Cells of head (layer, head) at `level` (0: the tokens' map) over `range`, clipped nowhere: a range past the
// level's n x n cells, an empty range, or a layer or head outside the run throws core::ArgumentError naming the file.
ExportMatrix exportMatrix(core::RunReader& run, int64_t layer, int64_t head, int level, const CellRange& range,
                          bool max = false);

} // namespace attnscope::importers

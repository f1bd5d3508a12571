#pragma once
// One pass over the attention rows of every head, feeding any number of streaming analyses: each row block of each
// head is produced once (AttentionSource::rows, the expensive part when rows are recomputed from Q/K) and shown to
// every visitor. Memory: one row block of every head of a layer (H x source.preferredRows() x T floats, fewer rows
// when that passes 256 MiB), plus what the visitors keep. Visitors that allow it see a block's heads at once, one
// OpenMP thread per head.
#include "analysis/attention_source.hpp"

#include <cstdint>
#include <functional>
#include <span>

namespace attnscope::core {

// A streaming analysis. The pass visits layers from the last to the first (rollout from chosen output rows walks
// down the layers), within a layer row blocks in ascending order, within a block heads in ascending order (or all at
// once, see headsInParallel); so each head's rows arrive in query order, and every head of a block arrives before
// blockDone.
class RowVisitor {
public:
    virtual ~RowVisitor() = default;
    // Query rows [0, rowEnd()) of every head are what this visitor needs; it is shown only blocks starting below
    // that, and the last of them may run past it.
    virtual int64_t rowEnd() const = 0;
    // rows: [count][T], rows [row0, row0 + count) of (layer, head), zeros above the diagonal; valid during the call.
    virtual void visit(int64_t layer, int64_t head, int64_t row0, int64_t count, std::span<const float> rows) = 0;
    // After every head's rows [row0, row0 + count) of this layer were visited.
    virtual void blockDone(int64_t /*layer*/, int64_t /*row0*/, int64_t /*count*/) {}
    // After the last block of this layer.
    virtual void layerDone(int64_t /*layer*/) {}
    // True when visit() may run for different heads of one block on different threads at once: it then touches only
    // that head's state. blockDone and layerDone always run alone.
    virtual bool headsInParallel() const { return false; }
};

// Runs the pass. afterLayer(layersDone), when given, runs after each layer (progress; it may throw to cancel).
// Throws what the source throws.
void streamRows(AttentionSource& source, std::span<RowVisitor* const> visitors,
                const std::function<void(int64_t)>& afterLayer = {});

// The pass with one visitor: what each analysis's own entry point runs, so alone and together compute alike.
void streamRows(AttentionSource& source, RowVisitor& visitor);

} // namespace attnscope::core

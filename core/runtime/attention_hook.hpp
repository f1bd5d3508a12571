#pragma once
// The one place where attention is observed and edited: called by the transformer for every layer and block.
// Thread: the model's worker thread. Tensors live on the model's device; probabilities are float32.
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace attnscope::core {

struct AttentionBlock {
    int64_t layer = 0;
    int64_t queryBegin = 0; // absolute position of the block's first query row
    int64_t queryCount = 0; // rows in this block (B)
    int64_t keyCount = 0;   // keys [0, keyCount) are present; row i sees keys <= queryBegin + i
};

class AttentionHook {
public:
    virtual ~AttentionHook() = default;
    // Blocks start at multiples of this many rows (from the sequence start), e.g. so that pyramid cells never
    // straddle two blocks.
    virtual int64_t rowAlignment() const { return 1; }
    // Bytes of float32 scores + probabilities per block this hook works best with (a hook that reads every block
    // again wants it to still be in cache); 0: the model's default.
    virtual int64_t blockBytes() const { return 0; }
    // Once per layer and forward call, before attention: q [H, T, d], k and v [Hkv, T, d] of the new positions,
    // after RoPE, in the compute dtype; positionBegin is the absolute position of row 0.
    virtual void onQkv(int64_t layer, int64_t positionBegin, const at::Tensor& q, const at::Tensor& k,
                       const at::Tensor& v) {}
    // Once per block: probs [H, B, keyCount] float32 (rows sum to 1, zeros above the causal diagonal) may be
    // edited in place before P·V; scores are the scaled, masked logits (-inf where masked), not to be edited.
    virtual void onProbs(const AttentionBlock& block, at::Tensor& probs, const at::Tensor& scores) = 0;
    // Once per layer and forward call, after P·V and before W_O: out [H, T, d] holds each head's output (z) of the
    // new positions in the compute dtype and may be edited in place (ablations of a head's output).
    virtual void onHeadOutputs(int64_t layer, int64_t positionBegin, at::Tensor& out) {}
    // Residual stream: index 0 is the embedding output, index l+1 the output of layer l; x is [T, D].
    virtual void onResidual(int64_t index, int64_t positionBegin, const at::Tensor& x) {}
    // Float32 logits [n, V] of positions [positionBegin, positionBegin + n), in row chunks, when the forward call
    // asked for Logits::ToHook (so that long sequences never hold [T, V] at once).
    virtual void onLogits(int64_t positionBegin, const at::Tensor& logits) {}
};

} // namespace attnscope::core

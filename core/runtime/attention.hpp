#pragma once
// Causal softmax attention computed by us, so that every probability passes through the hook.
// q [H, Tq, d] holds positions [keyCount - Tq, keyCount); k, v [Hkv, keyCount, d]; returns [H, Tq, d] in v's dtype.
// Query head h reads KV head h / (H / Hkv), as HF's repeat_kv does.
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace attnscope::core {

class AttentionHook;

struct AttentionParams {
    int64_t layer = 0;
    double scale = 1.0;    // applied to q·k
    int64_t queryBlock = 0; // rows per block; 0: derive from blockBytes
    int64_t blockBytes = 64ll << 20;
};

// Our attention: one block of query rows at a time; peak extra memory O(H · B · keyCount).
at::Tensor blockwiseAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                              const AttentionParams& params, AttentionHook* hook);

// Baseline: materialises the whole [H, Tq, keyCount] matrix at once after repeating K/V per query head,
// like Hugging Face's eager attention. The hook, if any, sees it as a single block.
at::Tensor eagerAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const AttentionParams& params,
                          AttentionHook* hook);

// Rows per block so that float32 scores and probabilities of one block stay within blockBytes.
int64_t attentionRowsPerBlock(int64_t heads, int64_t queries, int64_t keys, int64_t blockBytes);

} // namespace attnscope::core

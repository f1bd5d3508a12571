#pragma once
// The capture probe: an AttentionHook that reduces each block of probabilities once, while it is hot, into
// per-head statistics, pyramid levels, optional full rows, Q/K/LSE, residual and value norms, loss and top-k,
// and streams each finished layer to a RunWriter from a background thread (which owns the writer until finish()).
// Holds at most three layers' reductions (one filling, one queued, one being written). Worker thread only.
#include "capture/capture_write_queue.hpp"
#include "model/model_config.hpp"
#include "runtime/attention_hook.hpp"
#include "store/run_types.hpp"

#include <ATen/core/Tensor.h>

#include <functional>
#include <vector>

namespace attnscope::core {

class RunWriter;

class AttentionProbe : public AttentionHook {
public:
    // ids: the whole sequence being captured (for the loss of each next token).
    // portable: reduce with ATen ops (what CUDA runs) even on the CPU, where a fused one-pass kernel is the default.
    AttentionProbe(const ModelConfig& config, const RunLayout& layout, std::vector<int32_t> ids, RunWriter& writer,
                   bool portable = false);

    int64_t rowAlignment() const override;
    int64_t blockBytes() const override;
    void onQkv(int64_t layer, int64_t positionBegin, const at::Tensor& q, const at::Tensor& k,
               const at::Tensor& v) override;
    void onProbs(const AttentionBlock& block, at::Tensor& probs, const at::Tensor& scores) override;
    void onResidual(int64_t index, int64_t positionBegin, const at::Tensor& x) override;
    void onLogits(int64_t positionBegin, const at::Tensor& logits) override;

    // Writes residual norms and outputs; call after the forward pass.
    void finish();
    // Called after each finished layer (progress).
    std::function<void(int64_t layer)> onLayerDone;

private:
    void finishLayer();
    void reduceBlockPortable(int64_t r0, int64_t B, int64_t K, const at::Tensor& probs, const at::Tensor& scores);
    // Full maps: rows are gathered into whole chunk rows, which are compressed here and stored by the write queue.
    void keepProbRows(int64_t r0, int64_t K, const at::Tensor& probs);

    RunLayout m_layout;
    std::vector<int32_t> m_ids;
    RunWriter& m_writer;
    int64_t m_tokens;
    bool m_portable = false;
    int64_t m_blockBytes = 0;
    int m_finestLevel = 0; // 0: no pyramid

    int64_t m_layer = -1;
    int64_t m_rowsDone = 0;
    LayerCapture m_capture;                                       // q, k, value norms of the current layer
    at::Tensor m_received, m_entropy, m_firstMass, m_top1, m_lse; // [H, T] on the model's device
    at::Tensor m_pyramidSums, m_pyramidMaxes;                     // [H, n, n] at the finest stored level
    at::Tensor m_probRows; // full maps: float16 [H, chunk rows, T] on the CPU, the chunk row being filled

    std::vector<float> m_residualNorms; // [L+1][T]
    ResidualExtremes m_residualExtremes;
    RunOutput m_output;
    // Last, so that it stops (dropping writes not started) before the data above goes.
    CaptureWriteQueue m_writes{1};
};

} // namespace attnscope::core

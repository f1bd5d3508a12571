#pragma once
// The AttentionHook that applies an EditSet inside our attention blocks, then hands every callback on to an inner
// hook (a capture probe sees the edited attention: one pass). Thread: the model's worker, like any hook.
#include "intervene/attention_edit.hpp"
#include "runtime/attention_hook.hpp"

#include <memory>
#include <span>

namespace attnscope::core {

class Transformer;
struct ModelConfig;

// Clean head outputs of reference sequences, recorded once and shared by many EditHooks (a sweep).
class ReferenceCache {
public:
    ReferenceCache();
    ~ReferenceCache();
    struct Impl;
    Impl& impl() { return *m_impl; }

private:
    std::unique_ptr<Impl> m_impl;
};

class EditHook : public AttentionHook {
public:
    // Throws ArgumentError (validateEditSet) for edits the model cannot take. inner may be null.
    EditHook(EditSet edits, const ModelConfig& config, AttentionHook* inner = nullptr);
    ~EditHook() override;

    // Records the clean head outputs that mean and resample ablations read (the reference's, or `input`'s when an
    // ablation has none), through `cache` when given. Call before the first forward; a no-op without such edits.
    void prepare(Transformer& model, std::span<const int32_t> input, ReferenceCache* cache = nullptr);
    // Forgets the ACT sink sets of the previous sequence (they are kept from a prefill for its decode steps).
    void resetSequence();
    // Sink keys ACT found in head (layer, head) of the last prefill; empty when not calibrated or none.
    std::vector<int64_t> actSinks(int64_t layer, int64_t head) const;

    int64_t rowAlignment() const override;
    int64_t blockBytes() const override;
    void onQkv(int64_t layer, int64_t positionBegin, const at::Tensor& q, const at::Tensor& k,
               const at::Tensor& v) override;
    void onProbs(const AttentionBlock& block, at::Tensor& probs, const at::Tensor& scores) override;
    void onHeadOutputs(int64_t layer, int64_t positionBegin, at::Tensor& out) override;
    void onResidual(int64_t index, int64_t positionBegin, const at::Tensor& x) override;
    void onLogits(int64_t positionBegin, const at::Tensor& logits) override;

    struct Impl;

private:
    std::unique_ptr<Impl> m_impl;
};

} // namespace attnscope::core

#pragma once
// A test hook that copies every block of probabilities into a dense host array [L][H][T][T] (small T only).
#include "runtime/attention_hook.hpp"

#include <ATen/ATen.h>

#include <vector>

namespace attnscope::test {

class CollectHook : public core::AttentionHook {
public:
    CollectHook(int64_t layers, int64_t heads, int64_t tokens)
        : m_heads(heads), m_tokens(tokens), m_probs(size_t(layers * heads * tokens * tokens), 0.0f) {}

    void onProbs(const core::AttentionBlock& b, at::Tensor& probs, const at::Tensor&) override {
        auto host = probs.to(at::kCPU).contiguous();
        const float* p = host.data_ptr<float>();
        ++blocks;
        for (int64_t h = 0; h < m_heads; ++h)
            for (int64_t r = 0; r < b.queryCount; ++r)
                for (int64_t k = 0; k < b.keyCount; ++k)
                    at(b.layer, h, b.queryBegin + r, k) = p[(h * b.queryCount + r) * b.keyCount + k];
    }

    float& at(int64_t l, int64_t h, int64_t q, int64_t k) {
        return m_probs[size_t(((l * m_heads + h) * m_tokens + q) * m_tokens + k)];
    }
    const std::vector<float>& probs() const { return m_probs; }
    int blocks = 0;

private:
    int64_t m_heads, m_tokens;
    std::vector<float> m_probs;
};

} // namespace attnscope::test

#include "jobs/resampling_embedding.hpp"

#include "model/model_files.hpp"
#include "model/tokenizer.hpp"
#include "runtime/attention_hook.hpp"
#include "runtime/transformer.hpp"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>

namespace attnscope::core {

namespace {

// Keeps the residual stream at the output of the last layer, as float32 on the host.
class LastResidualHook : public AttentionHook {
public:
    explicit LastResidualHook(int64_t index) : m_index(index) {}
    void onProbs(const AttentionBlock&, at::Tensor&, const at::Tensor&) override {}
    void onResidual(int64_t index, int64_t, const at::Tensor& x) override {
        if (index == m_index) residual = x.to(at::kFloat).to(at::kCPU).contiguous();
    }
    at::Tensor residual;

private:
    int64_t m_index;
};

} // namespace

SentenceEmbedder::SentenceEmbedder(Transformer& model) : m_model(model) {
    const ModelFiles files = loadModelFiles(model.source());
    m_normWeight = toFloat32(files.tensors.at("norm.weight"));
    if (auto it = files.tensors.find("norm.bias"); it != files.tensors.end()) m_normBias = toFloat32(it->second);
}

const std::vector<float>& SentenceEmbedder::embed(const std::string& sentence) {
    if (auto it = m_cache.find(sentence); it != m_cache.end()) return it->second;
    std::vector<float>& out = m_cache[sentence];
    const Encoding enc = m_model.tokenizer().encode(sentence, true);
    std::vector<int64_t> own; // positions of the sentence's own tokens
    for (size_t t = 0; t < enc.ids.size(); ++t)
        if (enc.spans[t].end > enc.spans[t].begin) own.push_back(int64_t(t));
    if (own.empty()) return out;

    LastResidualHook hook(m_model.config().nLayers);
    m_model.forward(enc.ids, nullptr, &hook, Logits::Last);
    ++m_forwards;
    const ModelConfig& c = m_model.config();
    at::Tensor x = hook.residual.index_select(0, at::tensor(own, at::kLong)); // [n, D]
    // The final norm, as the runtime applies it before the LM head (float32 statistics).
    if (c.architecture == Architecture::Gpt2) {
        x = at::layer_norm(x, {x.size(-1)}, {}, {}, c.normEps);
    } else {
        x = x * at::rsqrt(x.pow(2).mean({-1}, true) + c.normEps);
    }
    // The weight is per channel, so it commutes with the mean over tokens.
    at::Tensor mean = x.mean(0).contiguous();
    const float* m = mean.data_ptr<float>();
    const int64_t D = mean.numel();
    out.resize(size_t(D));
    for (int64_t d = 0; d < D; ++d)
        out[size_t(d)] = m[d] * m_normWeight[size_t(d)] + (m_normBias.empty() ? 0.0f : m_normBias[size_t(d)]);
    return out;
}

double SentenceEmbedder::cosine(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.empty() || a.size() != b.size()) return std::numeric_limits<double>::quiet_NaN();
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        ab += double(a[i]) * b[i];
        aa += double(a[i]) * a[i];
        bb += double(b[i]) * b[i];
    }
    return aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : std::numeric_limits<double>::quiet_NaN();
}

} // namespace attnscope::core

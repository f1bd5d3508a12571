#include "runtime/transformer.hpp"

#include "errors.hpp"
#include "model/model_files.hpp"
#include "model/tokenizer.hpp"
#include "runtime/attention.hpp"
#include "runtime/attention_hook.hpp"
#include "runtime/rope.hpp"
#include "runtime/torch_weights.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/Context.h>
#include <c10/core/GradMode.h>

#include <cmath>

namespace attnscope::core {

struct KvCache::State {
    std::vector<at::Tensor> k, v; // per layer [Hkv, capacity, d]
    int64_t length = 0;

    // Appends n new positions of one layer and returns the keys and values of all positions so far.
    std::pair<at::Tensor, at::Tensor> append(size_t layer, const at::Tensor& kNew, const at::Tensor& vNew) {
        if (k.size() <= layer) {
            k.resize(layer + 1);
            v.resize(layer + 1);
        }
        const int64_t n = kNew.size(1);
        const int64_t needed = length + n;
        if (!k[layer].defined() || k[layer].size(1) < needed) {
            // Doubling keeps generation's appends amortised O(1) instead of a full copy per token.
            const int64_t capacity = std::max<int64_t>(needed, k[layer].defined() ? 2 * k[layer].size(1) : needed);
            auto grow = [&](at::Tensor& buf, const at::Tensor& like) {
                auto fresh = at::empty({like.size(0), capacity, like.size(2)}, like.options());
                if (buf.defined() && length > 0) fresh.narrow(1, 0, length).copy_(buf.narrow(1, 0, length));
                buf = fresh;
            };
            grow(k[layer], kNew);
            grow(v[layer], vNew);
        }
        k[layer].narrow(1, length, n).copy_(kNew);
        v[layer].narrow(1, length, n).copy_(vNew);
        return {k[layer].narrow(1, 0, needed), v[layer].narrow(1, 0, needed)};
    }
};

KvCache::KvCache() : m_state(std::make_unique<State>()) {}
KvCache::~KvCache() = default;
KvCache::KvCache(KvCache&&) noexcept = default;
KvCache& KvCache::operator=(KvCache&&) noexcept = default;
int64_t KvCache::length() const { return m_state->length; }
void KvCache::clear() { *m_state = State{}; }

namespace {

struct LayerWeights {
    at::Tensor attnNormW, attnNormB, wq, bq, wk, bk, wv, bv, wo, bo;
    at::Tensor ffnNormW, ffnNormB, wGate, wUp, bUp, wDown, bDown;
};

at::Device resolveDevice(const std::string& name) {
    at::Device device(name);
    if (device.is_cuda()) {
        if (!at::hasCUDA())
            throw UnsupportedError("Device '" + name +
                                   "' is not available: this build of libtorch has no CUDA support; use --device cpu.");
        const int count = static_cast<int>(at::getNumGPUs());
        if (device.has_index() && device.index() >= count)
            throw UnsupportedError("Device '" + name + "' does not exist: this machine has " + std::to_string(count) +
                                   " CUDA device(s).");
    } else if (!device.is_cpu()) {
        throw UnsupportedError("Device '" + name + "' is not supported; use cpu or cuda[:N].");
    }
    return device;
}

at::ScalarType scalarType(ComputeDtype d) {
    switch (d) {
    case ComputeDtype::F32: return at::kFloat;
    case ComputeDtype::BF16: return at::kBFloat16;
    case ComputeDtype::F16: return at::kHalf;
    }
    return at::kFloat;
}

} // namespace

struct Transformer::Impl {
    ModelConfig config;
    RuntimeOptions options;
    std::unique_ptr<Tokenizer> tokenizer;
    std::string source, format, weightsDtype, weightsSha256;
    int64_t parameters = 0;
    at::Device device{at::kCPU};
    at::ScalarType dtype = at::kFloat;
    at::Tensor tokEmb, posEmb, normW, normB, lmHead;
    std::vector<LayerWeights> layers;
    std::unique_ptr<Rope> rope;

    bool isGpt2() const { return config.architecture == Architecture::Gpt2; }

    at::Tensor weight(const TensorSet& tensors, const std::string& name, bool required = true) const {
        auto it = tensors.find(name);
        if (it == tensors.end()) {
            if (required) throw FormatError("'" + source + "' has no tensor '" + name + "'.");
            return {};
        }
        return toTorch(it->second, dtype, device);
    }

    // Norms run in float32 and cast back, as HF does, so bf16/f16 models keep their statistics exact.
    at::Tensor norm(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) const {
        auto xf = x.to(at::kFloat);
        if (isGpt2()) {
            return at::layer_norm(xf, {xf.size(-1)}, w.to(at::kFloat), b.to(at::kFloat), config.normEps)
                .to(dtype);
        }
        auto scaled = xf * at::rsqrt(xf.pow(2).mean({-1}, true) + config.normEps);
        return w * scaled.to(dtype);
    }

    at::Tensor mlp(const LayerWeights& L, const at::Tensor& h) const {
        if (isGpt2()) return at::linear(at::gelu(at::linear(h, L.wUp, L.bUp), "tanh"), L.wDown, L.bDown);
        return at::linear(at::silu(at::linear(h, L.wGate)) * at::linear(h, L.wUp), L.wDown);
    }

    at::Tensor attention(int64_t layer, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                         AttentionHook* hook) const {
        AttentionParams params;
        params.layer = layer;
        params.scale = 1.0 / std::sqrt(double(config.headDim));
        params.queryBlock = options.queryBlock;
        params.blockBytes = options.attentionBlockBytes;
        return options.attention == AttentionMode::Eager ? eagerAttention(q, k, v, params, hook)
                                                         : blockwiseAttention(q, k, v, params, hook);
    }
};

Transformer::Transformer(ModelFiles&& files, const RuntimeOptions& options) : m_impl(std::make_unique<Impl>()) {
    Impl& m = *m_impl;
    m.config = files.config;
    m.options = options;
    m.tokenizer = std::move(files.tokenizer);
    m.source = files.source;
    m.format = files.format;
    m.weightsDtype = files.weightsDtype;
    m.weightsSha256 = files.weightsSha256;
    m.device = resolveDevice(parseDevice(options.device));
    m.dtype = scalarType(options.dtype);
    const int threads = options.threads > 0 ? options.threads : availableThreads();
    at::set_num_threads(threads);

    const TensorSet& t = files.tensors;
    m.parameters = countParameters(t);
    m.tokEmb = m.weight(t, "tok_embeddings.weight");
    m.normW = m.weight(t, "norm.weight");
    m.normB = m.weight(t, "norm.bias", m.isGpt2());
    m.lmHead = m.config.tiedEmbeddings ? m.tokEmb : m.weight(t, "lm_head.weight");
    if (m.isGpt2()) m.posEmb = m.weight(t, "pos_embeddings.weight");
    for (int64_t l = 0; l < m.config.nLayers; ++l) {
        const std::string p = "layers." + std::to_string(l) + ".";
        const bool gpt2 = m.isGpt2();
        LayerWeights L;
        L.attnNormW = m.weight(t, p + "attn_norm.weight");
        L.attnNormB = m.weight(t, p + "attn_norm.bias", gpt2);
        L.wq = m.weight(t, p + "wq.weight");
        L.wk = m.weight(t, p + "wk.weight");
        L.wv = m.weight(t, p + "wv.weight");
        L.bq = m.weight(t, p + "wq.bias", m.config.qkvBias);
        L.bk = m.weight(t, p + "wk.bias", m.config.qkvBias);
        L.bv = m.weight(t, p + "wv.bias", m.config.qkvBias);
        L.wo = m.weight(t, p + "wo.weight");
        L.bo = m.weight(t, p + "wo.bias", gpt2);
        L.ffnNormW = m.weight(t, p + "ffn_norm.weight");
        L.ffnNormB = m.weight(t, p + "ffn_norm.bias", gpt2);
        if (!gpt2) L.wGate = m.weight(t, p + "w_gate.weight");
        L.wUp = m.weight(t, p + "w_up.weight");
        L.bUp = m.weight(t, p + "w_up.bias", gpt2);
        L.wDown = m.weight(t, p + "w_down.weight");
        L.bDown = m.weight(t, p + "w_down.bias", gpt2);
        m.layers.push_back(std::move(L));
    }
    if (!m.isGpt2()) m.rope = std::make_unique<Rope>(m.config, m.device);
}

Transformer::~Transformer() = default;

std::unique_ptr<Transformer> Transformer::load(const std::filesystem::path& path, const RuntimeOptions& options,
                                               bool computeSha256) {
    return std::make_unique<Transformer>(loadModelFiles(path, computeSha256), options);
}

const ModelConfig& Transformer::config() const { return m_impl->config; }
const RuntimeOptions& Transformer::options() const { return m_impl->options; }
bool Transformer::hasTokenizer() const { return m_impl->tokenizer != nullptr; }
const Tokenizer& Transformer::tokenizer() const {
    if (!m_impl->tokenizer) throw Error("'" + m_impl->source + "' has no tokenizer; pass token ids instead of text.");
    return *m_impl->tokenizer;
}
const std::string& Transformer::source() const { return m_impl->source; }
const std::string& Transformer::format() const { return m_impl->format; }
const std::string& Transformer::weightsDtype() const { return m_impl->weightsDtype; }
const std::string& Transformer::weightsSha256() const { return m_impl->weightsSha256; }
int64_t Transformer::parameterCount() const { return m_impl->parameters; }
std::string Transformer::deviceName() const { return m_impl->device.str(); }

ForwardOutput Transformer::forward(std::span<const int32_t> ids, KvCache* cache, AttentionHook* hook,
                                   Logits logitsMode) {
    Impl& m = *m_impl;
    const ModelConfig& c = m.config;
    KvCache local;
    KvCache& kv = cache ? *cache : local;
    const int64_t n = static_cast<int64_t>(ids.size());
    const int64_t p0 = kv.length();
    if (n == 0) throw ArgumentError("Cannot run the model on an empty sequence of tokens.");
    if (logitsMode == Logits::ToHook && !hook) throw ArgumentError("Logits::ToHook needs an attention hook.");
    for (int32_t id : ids)
        if (id < 0 || id >= c.vocabSize)
            throw ArgumentError("Token id " + std::to_string(id) + " is outside the vocabulary of '" + m.source +
                                "' (size " + std::to_string(c.vocabSize) + ").");
    if (m.isGpt2() && p0 + n > c.maxPositions)
        throw ArgumentError("'" + m.source + "' has learned positions for " + std::to_string(c.maxPositions) +
                            " tokens; " + std::to_string(p0 + n) + " were asked for.");

    c10::NoGradGuard noGrad;
    std::vector<int64_t> ids64(ids.begin(), ids.end());
    auto idsT = at::tensor(ids64, at::kLong).to(m.device);
    auto x = at::embedding(m.tokEmb, idsT);
    if (m.isGpt2()) x = x + m.posEmb.narrow(0, p0, n);
    if (hook) hook->onResidual(0, p0, x);

    const int64_t H = c.nHeads, Hkv = c.nKvHeads, d = c.headDim;
    for (int64_t l = 0; l < c.nLayers; ++l) {
        const LayerWeights& L = m.layers[l];
        auto h = m.norm(x, L.attnNormW, L.attnNormB);
        auto q = at::linear(h, L.wq, L.bq).view({n, H, d}).transpose(0, 1);
        auto k = at::linear(h, L.wk, L.bk).view({n, Hkv, d}).transpose(0, 1);
        auto v = at::linear(h, L.wv, L.bv).view({n, Hkv, d}).transpose(0, 1);
        if (m.rope) {
            q = m.rope->apply(q, p0);
            k = m.rope->apply(k, p0);
        }
        if (hook) hook->onQkv(l, p0, q, k, v);
        auto [keys, values] = kv.state().append(static_cast<size_t>(l), k, v);
        auto attn = m.attention(l, q.contiguous(), keys, values, hook);
        if (hook) hook->onHeadOutputs(l, p0, attn);
        x = x + at::linear(attn.transpose(0, 1).reshape({n, H * d}), L.wo, L.bo);
        x = x + m.mlp(L, m.norm(x, L.ffnNormW, L.ffnNormB));
        if (hook) hook->onResidual(l + 1, p0, x);
    }
    kv.state().length = p0 + n;

    x = m.norm(x, m.normW, m.normB);
    ForwardOutput out;
    if (logitsMode == Logits::ToHook) {
        // Row chunks keep [chunk, V] float32 under ~64 MiB even for 128K-token vocabularies.
        const int64_t chunk = std::max<int64_t>(1, (16ll << 20) / std::max<int64_t>(1, c.vocabSize));
        for (int64_t r = 0; r < n; r += chunk) {
            const int64_t rows = std::min(chunk, n - r);
            hook->onLogits(p0 + r, at::linear(x.narrow(0, r, rows), m.lmHead).to(at::kFloat));
        }
        out.vocab = c.vocabSize;
        return out;
    }
    if (logitsMode == Logits::Last) x = x.narrow(0, n - 1, 1);
    auto logits = at::linear(x, m.lmHead).to(at::kFloat).to(at::kCPU).contiguous();
    out.positions = logits.size(0);
    out.vocab = logits.size(1);
    out.logits.assign(logits.data_ptr<float>(), logits.data_ptr<float>() + logits.numel());
    return out;
}

} // namespace attnscope::core

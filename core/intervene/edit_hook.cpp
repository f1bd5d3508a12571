#include "intervene/edit_hook.hpp"

#include "errors.hpp"
#include "model/model_config.hpp"
#include "model/tokenizer.hpp"
#include "runtime/transformer.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

namespace attnscope::core {

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Head outputs z [H, T, d] of the layers a hook needs, from one clean pass over a reference sequence.
struct RecordedOutputs {
    std::map<int64_t, at::Tensor> z;
};

class RecordHook : public AttentionHook {
public:
    explicit RecordHook(std::set<int64_t> layers) : m_layers(std::move(layers)) {}
    void onProbs(const AttentionBlock&, at::Tensor&, const at::Tensor&) override {}
    void onHeadOutputs(int64_t layer, int64_t, at::Tensor& out) override {
        if (m_layers.count(layer)) recorded.z[layer] = out.clone();
    }
    RecordedOutputs recorded;

private:
    std::set<int64_t> m_layers;
};

// Query heads of an edit grouped by layer, as index tensors ready for index_select on [H, ...].
using HeadsByLayer = std::map<int64_t, std::vector<int64_t>>;

HeadsByLayer byLayer(const std::vector<std::pair<int64_t, int64_t>>& heads) {
    HeadsByLayer out;
    for (const auto& [l, h] : heads) out[l].push_back(h);
    return out;
}

at::Tensor indexTensor(const std::vector<int64_t>& v, const at::Device& device) {
    return at::tensor(v, at::kLong).to(device);
}

} // namespace

struct ReferenceCache::Impl {
    std::map<std::vector<int32_t>, std::shared_ptr<RecordedOutputs>> runs;
};

ReferenceCache::ReferenceCache() : m_impl(std::make_unique<Impl>()) {}
ReferenceCache::~ReferenceCache() = default;

struct EditHook::Impl {
    EditSet edits;
    ModelConfig config;
    AttentionHook* inner = nullptr;
    double scale = 1.0;
    int64_t group = 1;

    // One compiled edit: its heads per layer and, for ACT, the sink keys found at the last prefill.
    struct Compiled {
        const AttentionEdit* edit = nullptr;
        HeadsByLayer heads;
        bool allHeads = false; // suppression with an empty list: every head of every layer
        std::shared_ptr<RecordedOutputs> reference;
        std::map<std::pair<int64_t, int64_t>, std::vector<int64_t>> sinks; // (layer, head) -> ascending keys
        std::set<int64_t> sinkLayersSeen; // layers whose sinks come from a prefill of the current sequence
    };
    std::vector<Compiled> compiled;

    const std::vector<int64_t>* headsIn(const Compiled& c, int64_t layer) const {
        auto it = c.heads.find(layer);
        return it == c.heads.end() ? nullptr : &it->second;
    }

    void computeSinks(Compiled& c, const ActCalibration& act, int64_t layer, const at::Tensor& q,
                      const at::Tensor& k) {
        const auto* heads = headsIn(c, layer);
        if (!heads) return;
        c.sinkLayersSeen.insert(layer);
        const int64_t n = int64_t(heads->size()), T = q.size(1);
        std::vector<int64_t> kvHeads;
        for (int64_t h : *heads) kvHeads.push_back(h / group);
        auto qs = q.index_select(0, indexTensor(*heads, q.device())).to(at::kFloat);
        auto ks = k.index_select(0, indexTensor(kvHeads, k.device())).to(at::kFloat);
        auto colsum = at::zeros({n, T}, qs.options());
        // Row chunks keep the recomputed probabilities near 32 MiB whatever T is.
        const int64_t chunk = std::max<int64_t>(1, (8ll << 20) / std::max<int64_t>(1, n * T));
        auto longOpts = at::TensorOptions().dtype(at::kLong).device(q.device());
        for (int64_t r0 = 0; r0 < T; r0 += chunk) {
            const int64_t rows = std::min(chunk, T - r0), visible = r0 + rows;
            auto s = at::bmm(qs.narrow(1, r0, rows), ks.narrow(1, 0, visible).transpose(1, 2)).mul_(scale);
            auto keyIdx = at::arange(visible, longOpts).unsqueeze(0);
            auto rowIdx = at::arange(r0, visible, longOpts).unsqueeze(1);
            s.masked_fill_(keyIdx > rowIdx, -kInf);
            colsum.narrow(1, 0, visible).add_(at::softmax(s, -1).sum(1));
        }
        // ACT's score[k] = sum_q M[q,k] / (Q - k): the mean over the queries that see key k.
        auto seen = at::arange(T, 0, -1, qs.options());
        auto isSink = (colsum / seen).gt(act.threshold).to(at::kCPU);
        const bool* flags = nullptr;
        auto flagsContig = isSink.contiguous();
        flags = flagsContig.data_ptr<bool>();
        for (int64_t i = 0; i < n; ++i) {
            std::vector<int64_t> keys;
            bool first = true;
            for (int64_t key = 0; key < T; ++key) {
                if (!flags[i * T + key]) continue;
                if (first) { // the reference drops the lowest-index sink, normally <bos>
                    first = false;
                    continue;
                }
                keys.push_back(key);
            }
            c.sinks[{layer, (*heads)[size_t(i)]}] = std::move(keys);
        }
    }

    void applyAct(const Compiled& c, const ActCalibration& act, const AttentionBlock& block, at::Tensor& probs) {
        const auto* heads = headsIn(c, block.layer);
        if (!heads || act.beta == 1.0) return; // beta = 1 keeps every sink's mass: the identity, exactly
        for (int64_t h : *heads) {
            auto it = c.sinks.find({block.layer, h});
            if (it == c.sinks.end()) continue;
            const auto& all = it->second;
            const auto visible = std::lower_bound(all.begin(), all.end(), block.keyCount) - all.begin();
            if (visible == 0) continue;
            std::vector<int64_t> keys(all.begin(), all.begin() + visible);
            auto m = probs.select(0, h); // [B, K] view
            auto mask = at::zeros({block.keyCount}, m.options());
            mask.index_fill_(0, indexTensor(keys, m.device()), 1.0);
            auto sinkMass = (m * mask).sum(-1, true);
            auto rest = m * (1 - mask);
            auto restSum = rest.sum(-1, true);
            // Proportional to the original non-sink attention; a row with none keeps its attention (the
            // reference would divide by zero).
            auto gain = (1 - act.beta) * sinkMass / restSum.clamp_min(std::numeric_limits<float>::min());
            auto edited = rest * (1 + gain) + m * mask * act.beta;
            m.copy_(at::where(restSum > 0, edited, m));
        }
    }

    void applySuppress(const Compiled& c, const SpanSuppression& s, const AttentionBlock& block, at::Tensor& probs,
                       const at::Tensor& scores) {
        const int64_t begin = std::min(s.begin, block.keyCount), end = std::min(s.end, block.keyCount);
        if (end <= begin) return;
        const auto* heads = headsIn(c, block.layer);
        if (!c.allHeads && !heads) return;
        auto idx = c.allHeads ? at::Tensor() : indexTensor(*heads, probs.device());
        auto p = c.allHeads ? probs : probs.index_select(0, idx);
        auto kept = p.clone();
        kept.narrow(-1, begin, end - begin).zero_();
        auto keptSum = kept.sum(-1, true);
        // A row that sees only span keys: with every visible logit at the dtype's minimum, the reference's softmax
        // is uniform over them.
        auto sc = c.allHeads ? scores : scores.index_select(0, idx);
        auto spanVisible = at::isfinite(sc.narrow(-1, begin, end - begin)).to(at::kFloat);
        auto uniform = at::zeros_like(p);
        uniform.narrow(-1, begin, end - begin).copy_(spanVisible / spanVisible.sum(-1, true).clamp_min(1));
        auto edited = at::where(keptSum > 0, kept / keptSum.clamp_min(std::numeric_limits<float>::min()), uniform);
        if (c.allHeads)
            probs.copy_(edited);
        else
            probs.index_copy_(0, idx, edited);
    }

    void applyPattern(const Compiled& c, const HeadAblation& a, const AttentionBlock& block, at::Tensor& probs,
                      const at::Tensor& scores) {
        const auto* heads = headsIn(c, block.layer);
        if (!heads) return;
        auto idx = indexTensor(*heads, probs.device());
        auto sc = scores.index_select(0, idx);
        auto visible = at::isfinite(sc);
        at::Tensor edited;
        if (a.method == AblationMethod::Uniform || a.epsilon == 0) {
            auto v = visible.to(at::kFloat);
            edited = v / v.sum(-1, true);
        } else {
            // Scaling q scales every logit of the head (RoPE is linear), masked ones stay -inf.
            edited = at::softmax(at::where(visible, sc * a.epsilon, at::full({}, -kInf, sc.options())), -1);
        }
        probs.index_copy_(0, idx, edited);
    }

    void applyOutput(const Compiled& c, const HeadAblation& a, int64_t layer, int64_t positionBegin,
                     at::Tensor& out) {
        const auto* heads = headsIn(c, layer);
        if (!heads) return;
        if (a.method == AblationMethod::Zero) {
            out.index_fill_(0, indexTensor(*heads, out.device()), 0);
            return;
        }
        if (!c.reference || !c.reference->z.count(layer))
            throw ArgumentError("A " + std::string(ablationMethodName(a.method)) +
                                " ablation needs its reference outputs: call EditHook::prepare before the forward.");
        const at::Tensor& z = c.reference->z.at(layer); // [H, T_ref, d]
        const int64_t T = out.size(1), refT = z.size(1);
        for (int64_t h : *heads) {
            auto dst = out.select(0, h);
            if (a.method == AblationMethod::Mean) {
                dst.copy_(z.select(0, h).to(at::kFloat).mean(0).to(out.scalar_type()).unsqueeze(0).expand_as(dst));
            } else {
                auto pos = at::arange(positionBegin, positionBegin + T, at::TensorOptions().dtype(at::kLong))
                               .remainder(refT)
                               .to(out.device());
                dst.copy_(z.select(0, h).index_select(0, pos));
            }
        }
    }
};

EditHook::EditHook(EditSet edits, const ModelConfig& config, AttentionHook* inner) : m_impl(std::make_unique<Impl>()) {
    validateEditSet(edits, config);
    Impl& m = *m_impl;
    m.edits = std::move(edits);
    m.config = config;
    m.inner = inner;
    m.scale = 1.0 / std::sqrt(double(config.headDim));
    m.group = config.nKvHeads > 0 ? config.nHeads / config.nKvHeads : 1;
    for (const AttentionEdit& e : m.edits.edits) {
        Impl::Compiled c;
        c.edit = &e;
        if (const auto* a = std::get_if<HeadAblation>(&e)) c.heads = byLayer(expandHeads(a->heads, config));
        if (const auto* act = std::get_if<ActCalibration>(&e)) c.heads = byLayer(actHeads(*act, config));
        if (const auto* s = std::get_if<SpanSuppression>(&e)) {
            c.allHeads = s->heads.empty();
            c.heads = byLayer(expandHeads(s->heads, config));
        }
        m.compiled.push_back(std::move(c));
    }
}

EditHook::~EditHook() = default;

void EditHook::prepare(Transformer& model, std::span<const int32_t> input, ReferenceCache* cache) {
    ReferenceCache local;
    ReferenceCache& refs = cache ? *cache : local;
    for (Impl::Compiled& c : m_impl->compiled) {
        const auto* a = std::get_if<HeadAblation>(c.edit);
        if (!a || (a->method != AblationMethod::Mean && a->method != AblationMethod::Resample)) continue;
        std::vector<int32_t> ids = a->referenceIds;
        if (ids.empty() && !a->referenceText.empty()) ids = model.tokenizer().encode(a->referenceText, true).ids;
        if (ids.empty()) {
            if (a->method == AblationMethod::Resample)
                throw ArgumentError("A resample ablation needs a reference text different from the input.");
            ids.assign(input.begin(), input.end());
        }
        std::set<int64_t> layers;
        for (const auto& [l, heads] : c.heads) layers.insert(l);
        auto& entry = refs.impl().runs[ids];
        const bool complete = entry && std::all_of(layers.begin(), layers.end(),
                                                   [&](int64_t l) { return entry->z.count(l) > 0; });
        if (!complete) {
            for (const auto& [l, z] : entry ? entry->z : std::map<int64_t, at::Tensor>{}) layers.insert(l);
            RecordHook record(layers);
            model.forward(ids, nullptr, &record, Logits::Last);
            entry = std::make_shared<RecordedOutputs>(std::move(record.recorded));
        }
        c.reference = entry;
    }
}

void EditHook::resetSequence() {
    for (Impl::Compiled& c : m_impl->compiled) {
        c.sinks.clear();
        c.sinkLayersSeen.clear();
    }
}

std::vector<int64_t> EditHook::actSinks(int64_t layer, int64_t head) const {
    for (const Impl::Compiled& c : m_impl->compiled) {
        auto it = c.sinks.find({layer, head});
        if (it != c.sinks.end()) return it->second;
    }
    return {};
}

int64_t EditHook::rowAlignment() const { return m_impl->inner ? m_impl->inner->rowAlignment() : 1; }
int64_t EditHook::blockBytes() const { return m_impl->inner ? m_impl->inner->blockBytes() : 0; }

void EditHook::onQkv(int64_t layer, int64_t positionBegin, const at::Tensor& q, const at::Tensor& k,
                     const at::Tensor& v) {
    // Sinks are found on a prefill (the whole sequence's rows, as ACT does) and kept for its decode steps: our
    // decode-time behaviour, where the reference forces the current row onto <bos> (methods.md §2.1).
    if (positionBegin == 0)
        for (Impl::Compiled& c : m_impl->compiled)
            if (const auto* act = std::get_if<ActCalibration>(c.edit)) m_impl->computeSinks(c, *act, layer, q, k);
    if (m_impl->inner) m_impl->inner->onQkv(layer, positionBegin, q, k, v);
}

void EditHook::onProbs(const AttentionBlock& block, at::Tensor& probs, const at::Tensor& scores) {
    for (const Impl::Compiled& c : m_impl->compiled) {
        if (const auto* a = std::get_if<HeadAblation>(c.edit)) {
            if (a->method == AblationMethod::Uniform || a->method == AblationMethod::Scale)
                m_impl->applyPattern(c, *a, block, probs, scores);
        } else if (const auto* act = std::get_if<ActCalibration>(c.edit)) {
            m_impl->applyAct(c, *act, block, probs);
        } else if (const auto* s = std::get_if<SpanSuppression>(c.edit)) {
            m_impl->applySuppress(c, *s, block, probs, scores);
        }
    }
    if (m_impl->inner) m_impl->inner->onProbs(block, probs, scores);
}

void EditHook::onHeadOutputs(int64_t layer, int64_t positionBegin, at::Tensor& out) {
    for (const Impl::Compiled& c : m_impl->compiled) {
        const auto* a = std::get_if<HeadAblation>(c.edit);
        if (a && (a->method == AblationMethod::Zero || a->method == AblationMethod::Mean ||
                  a->method == AblationMethod::Resample))
            m_impl->applyOutput(c, *a, layer, positionBegin, out);
    }
    if (m_impl->inner) m_impl->inner->onHeadOutputs(layer, positionBegin, out);
}

void EditHook::onResidual(int64_t index, int64_t positionBegin, const at::Tensor& x) {
    if (m_impl->inner) m_impl->inner->onResidual(index, positionBegin, x);
}

void EditHook::onLogits(int64_t positionBegin, const at::Tensor& logits) {
    if (m_impl->inner) m_impl->inner->onLogits(positionBegin, logits);
}

} // namespace attnscope::core

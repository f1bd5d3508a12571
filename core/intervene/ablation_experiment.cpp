#include "intervene/ablation_experiment.hpp"

#include "errors.hpp"
#include "intervene/edit_hook.hpp"
#include "intervene/logit_metrics.hpp"
#include "jobs/progress.hpp"
#include "runtime/transformer.hpp"
#include "split_mix.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace attnscope::core {

namespace {

struct Baseline {
    int64_t vocab = 0;
    std::vector<double> logP;
    std::vector<float> lastLogits;
    std::vector<int32_t> next;
    double loss = 0;
};

class AblationRunner {
public:
    AblationRunner(Transformer& model, const std::vector<int32_t>& ids, const AblationParams& p)
        : m_model(model), m_ids(ids), m_params(p) {
        ForwardOutput out = model.forward(ids);
        m_base.vocab = out.vocab;
        m_base.logP = logSoftmaxRows(out.logits, out.vocab);
        m_base.lastLogits.assign(out.logits.end() - out.vocab, out.logits.end());
        m_base.next.assign(ids.begin() + 1, ids.end());
        m_base.loss = meanNll(m_base.logP, out.vocab, m_base.next);
    }

    const Baseline& base() const { return m_base; }

    HeadAblation edit(std::vector<HeadRef> heads) const {
        HeadAblation a;
        a.method = m_params.method;
        a.heads = std::move(heads);
        a.epsilon = m_params.epsilon;
        a.referenceIds = m_params.referenceIds;
        return a;
    }

    AblationMetrics measure(const std::vector<HeadRef>& heads, int32_t target) {
        EditSet set;
        set.edits.push_back(edit(heads));
        EditHook hook(set, m_model.config());
        hook.prepare(m_model, m_ids, &m_references);
        ForwardOutput out = m_model.forward(m_ids, nullptr, &hook);
        const int64_t V = out.vocab, T = int64_t(m_ids.size());
        const std::vector<double> logQ = logSoftmaxRows(out.logits, V);
        AblationMetrics m;
        m.loss = meanNll(logQ, V, m_base.next);
        m.deltaLoss = m.loss - m_base.loss;
        m.kl = meanKl(m_base.logP, logQ, V);
        m.ships = shipsKl(m_base.logP.data() + (T - 1) * V, logQ.data() + (T - 1) * V, V);
        m.logitDiff = double(out.logits[size_t((T - 1) * V + target)]) - double(m_base.lastLogits[size_t(target)]);
        return m;
    }

private:
    Transformer& m_model;
    const std::vector<int32_t>& m_ids;
    const AblationParams& m_params;
    Baseline m_base;
    ReferenceCache m_references; // one clean reference pass serves every head of a sweep
};

void topVersusRandom(AblationRunner& runner, AblationReport& r, Progress* progress) {
    const AblationParams& p = r.params;
    const int64_t n = r.layers * r.heads;
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    // Larger is more important for every ranking metric; a stable sort keeps ties in (layer, head) order.
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        return metricValue(r.perHead[size_t(a)], p.rankBy) > metricValue(r.perHead[size_t(b)], p.rankBy);
    });
    auto ref = [&](int64_t i) { return HeadRef{i / r.heads, i % r.heads, false}; };
    for (int64_t i = 0; i < p.topK; ++i) r.topHeads.push_back(ref(order[size_t(i)]));
    if (progress) progress->begin("top-K vs random", 1 + p.randomSeeds);
    r.top = runner.measure(r.topHeads, r.target);
    if (progress) progress->advance();
    // As Wu et al.'s masking baseline: random heads drawn from outside the top-K.
    std::vector<int64_t> pool(order.begin() + p.topK, order.end());
    std::sort(pool.begin(), pool.end());
    std::vector<double> values;
    for (int64_t s = 0; s < p.randomSeeds; ++s) {
        SplitMix64 rng(mix64(p.seed + uint64_t(s)));
        std::vector<int64_t> draw = pool;
        for (int64_t i = 0; i < p.topK; ++i) std::swap(draw[size_t(i)], draw[size_t(rng.between(i, int64_t(draw.size()) - 1))]);
        std::vector<HeadRef> heads;
        for (int64_t i = 0; i < p.topK; ++i) heads.push_back(ref(draw[size_t(i)]));
        r.random.push_back(runner.measure(heads, r.target));
        values.push_back(metricValue(r.random.back(), p.rankBy));
        if (progress) {
            progress->advance();
            if (progress->cancelled()) throw Cancelled{};
        }
    }
    const double mean = std::accumulate(values.begin(), values.end(), 0.0) / double(values.size());
    double var = 0;
    for (double v : values) var += (v - mean) * (v - mean);
    const double half = values.size() > 1
                            ? tQuantile95(int64_t(values.size())) * std::sqrt(var / double(values.size() - 1)) /
                                  std::sqrt(double(values.size()))
                            : 0.0;
    r.randomMean = mean;
    r.randomCiLow = mean - half;
    r.randomCiHigh = mean + half;
}

} // namespace

double metricValue(const AblationMetrics& m, const std::string& name) {
    if (name == "kl") return m.kl;
    if (name == "delta_loss") return m.deltaLoss;
    if (name == "ships") return m.ships;
    if (name == "logit_diff") return m.logitDiff;
    throw ArgumentError("Unknown ablation metric '" + name + "': use kl, delta_loss, ships or logit_diff.");
}

AblationReport runAblation(Transformer& model, const std::vector<int32_t>& ids, const AblationParams& params,
                           Progress* progress) {
    const ModelConfig& c = model.config();
    if (ids.size() < 2) throw ArgumentError("An ablation needs a text of at least 2 tokens.");
    if (!params.sweep && params.heads.empty())
        throw ArgumentError("Name the heads to ablate (--heads L.H,...) or ask for a sweep over all heads.");
    metricValue(AblationMetrics{}, params.rankBy);
    if (params.topK < 0 || params.topK * 2 > c.nLayers * c.nHeads)
        throw ArgumentError("Top-K must lie in [0, " + std::to_string(c.nLayers * c.nHeads / 2) +
                            "] so that as many random heads remain outside it; " + std::to_string(params.topK) +
                            " was given.");
    if (params.target >= c.vocabSize)
        throw ArgumentError("Target token id " + std::to_string(params.target) + " is outside the vocabulary (size " +
                            std::to_string(c.vocabSize) + ").");
    AblationReport r;
    r.layers = c.nLayers;
    r.heads = c.nHeads;
    r.tokens = int64_t(ids.size());
    r.params = params;
    AblationRunner runner(model, ids, r.params);
    EditSet probe;
    probe.edits.push_back(runner.edit(params.sweep ? std::vector<HeadRef>{HeadRef{0, 0, false}} : params.heads));
    validateEditSet(probe, c);
    r.baseLoss = runner.base().loss;
    r.target = params.target >= 0
                   ? params.target
                   : int32_t(argmaxRow(runner.base().lastLogits.data(), runner.base().vocab));
    if (!params.sweep) {
        r.edits = probe;
        if (progress) progress->begin("ablate", 1);
        r.set = runner.measure(params.heads, r.target);
        if (progress) progress->advance();
        return r;
    }
    r.edits.edits.push_back(runner.edit({})); // the template: one head per row, in the per-head datasets
    if (progress) progress->begin("sweep", c.nLayers * c.nHeads);
    for (int64_t l = 0; l < c.nLayers; ++l)
        for (int64_t h = 0; h < c.nHeads; ++h) {
            r.perHead.push_back(runner.measure({HeadRef{l, h, false}}, r.target));
            if (progress) {
                progress->advance();
                progress->setDetail(fmt::format("{}.{}: KL {:.4f}", l, h, r.perHead.back().kl));
                if (progress->cancelled()) throw Cancelled{};
            }
        }
    if (params.topK > 0) topVersusRandom(runner, r, progress);
    return r;
}

AnalysisResult ablationAnalysis(const AblationReport& r) {
    AnalysisResult a;
    a.name = "ablation";
    a.source = "methods.md §5.1 (TransformerLens zero/mean/resample), §3.2 (q = 0), §5.2 (Ships)";
    a.version = 1;
    a.set("method", std::string(ablationMethodName(r.params.method)));
    a.set("sweep", int64_t(r.params.sweep ? 1 : 0));
    a.set("target", int64_t(r.target));
    a.set("tokens", r.tokens);
    a.set("base_loss", r.baseLoss);
    a.set("edits", editSetToJson(r.edits));
    if (r.params.method == AblationMethod::Scale) a.set("epsilon", r.params.epsilon);
    auto perHead = [&](const std::string& name, double AblationMetrics::*field) {
        std::vector<float> v;
        for (const AblationMetrics& m : r.perHead) v.push_back(float(m.*field));
        a.add(name, {r.layers, r.heads}, v, "layer,head");
    };
    auto scalar = [&](const std::string& name, double v) { a.add(name, {}, std::vector<double>{v}); };
    if (r.params.sweep) {
        perHead("delta_loss", &AblationMetrics::deltaLoss);
        perHead("kl", &AblationMetrics::kl);
        perHead("ships", &AblationMetrics::ships);
        perHead("logit_diff", &AblationMetrics::logitDiff);
    } else {
        a.set("heads", formatHeadList(r.params.heads));
        scalar("delta_loss", r.set.deltaLoss);
        scalar("kl", r.set.kl);
        scalar("ships", r.set.ships);
        scalar("logit_diff", r.set.logitDiff);
    }
    if (!r.topHeads.empty()) {
        a.set("top_k", r.params.topK);
        a.set("rank_by", r.params.rankBy);
        a.set("random_seeds", r.params.randomSeeds);
        a.set("seed", int64_t(r.params.seed));
        a.set("top_heads", formatHeadList(r.topHeads));
        scalar("top_k_value", metricValue(r.top, r.params.rankBy));
        std::vector<double> random;
        for (const AblationMetrics& m : r.random) random.push_back(metricValue(m, r.params.rankBy));
        a.add("random_k_values", {int64_t(random.size())}, random, "seed");
        a.add("random_k_ci95", {3}, std::vector<double>{r.randomMean, r.randomCiLow, r.randomCiHigh},
              "mean,low,high");
    }
    return a;
}

std::string ablationTable(const AblationReport& r, int64_t maxRows) {
    std::string s = fmt::format("{} ablation, {} tokens, base loss {:.4f}, target token {}\n",
                                ablationMethodName(r.params.method), r.tokens, r.baseLoss, r.target);
    const std::string header = fmt::format("{:<12} {:>11} {:>11} {:>11} {:>11}\n", "heads", "delta_loss", "KL",
                                           "Ships", "logit_diff");
    auto row = [](const std::string& label, const AblationMetrics& m) {
        return fmt::format("{:<12} {:>11.5f} {:>11.5f} {:>11.5f} {:>11.4f}\n", label, m.deltaLoss, m.kl, m.ships,
                           m.logitDiff);
    };
    if (!r.params.sweep) return s + header + row(formatHeadList(r.params.heads), r.set);
    std::vector<size_t> order(r.perHead.size());
    std::iota(order.begin(), order.end(), size_t(0));
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return metricValue(r.perHead[a], r.params.rankBy) > metricValue(r.perHead[b], r.params.rankBy);
    });
    s += fmt::format("sweep of {} heads, sorted by {}:\n", r.perHead.size(), r.params.rankBy) + header;
    for (size_t i = 0; i < order.size() && int64_t(i) < maxRows; ++i)
        s += row(fmt::format("{}.{}", order[i] / size_t(r.heads), order[i] % size_t(r.heads)), r.perHead[order[i]]);
    if (!r.topHeads.empty()) {
        s += fmt::format("top-{} by {} ({}): {:.5f}\n", r.params.topK, r.params.rankBy, formatHeadList(r.topHeads),
                         metricValue(r.top, r.params.rankBy));
        s += fmt::format("{} random sets of {} heads: mean {:.5f}, 95% CI [{:.5f}, {:.5f}]\n", r.random.size(),
                         r.params.topK, r.randomMean, r.randomCiLow, r.randomCiHigh);
    }
    return s;
}

} // namespace attnscope::core

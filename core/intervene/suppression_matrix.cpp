#include "intervene/suppression_matrix.hpp"

#include "errors.hpp"
#include "intervene/edit_hook.hpp"
#include "jobs/progress.hpp"
#include "runtime/transformer.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace attnscope::core {

namespace {

constexpr double kMissingLogit = -1e9; // the reference's stand-in for -inf on the union support
const double kNaN = std::numeric_limits<double>::quiet_NaN();

double nanMean(const double* v, int64_t n) {
    double sum = 0;
    int64_t count = 0;
    for (int64_t k = 0; k < n; ++k)
        if (!std::isnan(v[k])) sum += v[k], ++count;
    return count ? sum / double(count) : kNaN;
}

} // namespace

SparseLogits topPLogits(const float* row, int64_t vocab, const SuppressionOptions& o) {
    const int64_t keep = std::max<int64_t>(1, std::min(o.maxTokens, vocab));
    std::vector<int32_t> order(static_cast<size_t>(vocab));
    std::iota(order.begin(), order.end(), 0);
    // Ties broken by id so that the nucleus does not depend on the sort's stability.
    auto better = [row](int32_t a, int32_t b) { return row[a] > row[b] || (row[a] == row[b] && a < b); };
    std::partial_sort(order.begin(), order.begin() + keep, order.end(), better);
    const double top = double(row[order[0]]) / o.temperature;
    double z = 0;
    for (int64_t v = 0; v < vocab; ++v)
        z += std::exp(double(row[v]) / o.temperature - top);
    SparseLogits s;
    double mass = 0;
    for (int64_t k = 0; k < keep; ++k) {
        const int32_t id = order[size_t(k)];
        s.ids.push_back(id);
        s.logits.push_back(row[id]);
        mass += std::exp(double(row[id]) / o.temperature - top) / z;
        if (mass >= o.topP) break;
    }
    return s;
}

double sparseKl(const SparseLogits& base, const SparseLogits& suppressed, double temperature) {
    std::vector<int32_t> ids = base.ids;
    ids.insert(ids.end(), suppressed.ids.begin(), suppressed.ids.end());
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    const size_t n = ids.size();
    auto onUnion = [&](const SparseLogits& s) {
        // The reference holds the union in float32, so -1e9 and the logits are rounded as there.
        std::vector<double> l(n, double(float(kMissingLogit)));
        for (size_t k = 0; k < s.ids.size(); ++k)
            l[size_t(std::lower_bound(ids.begin(), ids.end(), s.ids[k]) - ids.begin())] = double(s.logits[k]);
        const double top = *std::max_element(l.begin(), l.end()) / temperature;
        double z = 0;
        for (double& x : l)
            x /= temperature, z += std::exp(x - top);
        const double lse = top + std::log(z);
        for (double& x : l)
            x -= lse;
        return l;
    };
    const std::vector<double> logP = onUnion(base), logQ = onUnion(suppressed);
    double kl = 0;
    for (size_t k = 0; k < n; ++k) {
        const double p = std::exp(logP[k]);
        if (p > 0) kl += p * (logP[k] - logQ[k]);
    }
    return std::max(0.0, kl);
}

SuppressionMatrix suppressionMatrix(Transformer& model, std::span<const int32_t> ids,
                                    std::span<const std::array<int64_t, 2>> ranges, const SuppressionOptions& options,
                                    Progress* progress) {
    const int64_t T = int64_t(ids.size()), N = int64_t(ranges.size());
    if (T < 2) throw ArgumentError(fmt::format("Suppression needs at least 2 tokens; the text has {}.", T));
    for (int64_t i = 0; i < N; ++i) {
        const auto [b, e] = ranges[size_t(i)];
        if (b < 0 || e < b || e > T)
            throw ArgumentError(
                fmt::format("Sentence {} has token range [{}, {}) outside the text's {} tokens.", i, b, e, T));
    }
    if (progress) progress->begin("suppress", N + 1);
    auto step = [progress] {
        if (!progress) return;
        if (progress->cancelled()) throw Cancelled();
        progress->advance();
    };

    ForwardOutput base = model.forward(ids);
    const int64_t V = base.vocab;
    std::vector<SparseLogits> baseRows(static_cast<size_t>(T));
    for (int64_t t = 0; t < T; ++t)
        baseRows[size_t(t)] = topPLogits(base.logits.data() + t * V, V, options);
    base.logits = {};
    step();

    SuppressionMatrix m;
    m.sentences = N;
    m.options = options;
    m.values.assign(size_t(N * N), kNaN);
    auto perToken = [&](double kl) { return options.takeLog ? std::log(kl + options.epsilon) : kl; };
    std::vector<double> tokenValue(static_cast<size_t>(T));
    for (int64_t i = 0; i < N; ++i) {
        const auto [begin, end] = ranges[size_t(i)];
        std::fill(tokenValue.begin(), tokenValue.end(), perToken(0.0));
        if (end > begin) {
            SpanSuppression s;
            s.begin = begin;
            s.end = end;
            EditHook hook(EditSet{{s}}, model.config());
            const ForwardOutput out = model.forward(ids, nullptr, &hook);
            for (int64_t t = begin; t < T; ++t)
                tokenValue[size_t(t)] = perToken(sparseKl(
                    baseRows[size_t(t)], topPLogits(out.logits.data() + t * V, V, options), options.temperature));
        }
        for (int64_t j = 0; j < N; ++j) {
            auto [b, e] = ranges[size_t(j)];
            if (options.onlyFirst > 0) e = std::min(e, b + options.onlyFirst);
            if (e > b) m.values[size_t(j * N + i)] = nanMean(tokenValue.data() + b, e - b);
        }
        step();
    }
    m.effect.assign(size_t(N), kNaN);
    std::vector<double> column;
    for (int64_t i = 0; i < N; ++i) {
        column.clear();
        for (int64_t j = i + 1; j < N; ++j)
            column.push_back(m.values[size_t(j * N + i)]);
        m.effect[size_t(i)] = nanMean(column.data(), int64_t(column.size()));
    }
    return m;
}

AnalysisResult suppressionAnalysis(const SuppressionMatrix& m, std::span<const std::array<int64_t, 2>> ranges) {
    const SuppressionOptions& o = m.options;
    AnalysisResult r;
    r.name = "anchors_suppression";
    r.source = "methods.md §4.6 (docs/methods.md 8.3); Bogdan, Macar, Nanda, Conmy, Thought Anchors (2025), "
               "attn_supp_funcs.py get_suppression_KL_matrix, calculate_kl_divergence_sparse";
    r.set("temperature", o.temperature).set("top_p", o.topP).set("max_tokens", o.maxTokens);
    r.set("take_log", int64_t(o.takeLog)).set("epsilon", o.epsilon).set("only_first", o.onlyFirst);
    r.set("layers", std::string("all")).set("heads", std::string("all"));
    const int64_t N = m.sentences;
    std::vector<int32_t> tokens;
    for (const auto& [b, e] : ranges)
        tokens.insert(tokens.end(), {int32_t(b), int32_t(e)});
    r.add("sentence_tokens", {N, 2}, tokens, "sentence,begin_end");
    r.add("matrix", {N, N}, m.values, "affected_sentence,suppressed_sentence");
    r.add("effect", {N}, m.effect, "suppressed_sentence");
    return r;
}

} // namespace attnscope::core

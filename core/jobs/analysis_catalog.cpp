#include "jobs/analysis_catalog.hpp"

#include "analysis/act_sinks.hpp"
#include "analysis/attention_flow.hpp"
#include "analysis/first_token_mass.hpp"
#include "analysis/head_detector.hpp"
#include "analysis/head_entropy.hpp"
#include "analysis/massive_activations.hpp"
#include "analysis/norm_ratio.hpp"
#include "analysis/positional_heads.hpp"
#include "analysis/rollout.hpp"
#include "analysis/sink_rate.hpp"
#include "errors.hpp"
#include "jobs/analysis_summary.hpp"
#include "jobs/anchor_analysis.hpp"
#include "jobs/probe_analyses.hpp"
#include "store/run_reader.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace attnscope::core {

namespace {

constexpr const char* kLayerHead = "layer,head";

AnalysisResult result(const std::string& name, const std::string& source, int64_t version = 1) {
    AnalysisResult r;
    r.name = name, r.source = source, r.version = version;
    return r;
}

void addHeads(AnalysisResult& r, const std::string& name, const HeadScores& s) {
    r.add(name, {s.layers, s.heads}, s.values, kLayerHead);
}

void addFlags(AnalysisResult& r, const std::string& name, const std::vector<uint8_t>& flags, int64_t L, int64_t H) {
    r.add(name, {L, H}, std::vector<int32_t>(flags.begin(), flags.end()), kLayerHead);
}

std::string needsTokens(RunReader& run, int64_t minimum) {
    const int64_t T = run.layout().tokens;
    return T >= minimum ? std::string() : fmt::format("it needs at least {} tokens and the run has {}", minimum, T);
}

AnalysisResult sinks(RunReader&, AttentionSource& source) {
    const SinkParams p;
    AnalysisResult r = result("sinks", "methods.md §1.2 (docs/methods.md 1.1, 1.2); Gu et al., When Attention Sink "
                                       "Emerges in Language Models (ICLR 2025), eval_sink_open_source.py");
    const KeyAlpha alpha = keyAlpha(source, p.length);
    const KeyAlpha one[] = {alpha};
    const SinkRate rate = sinkRateFromAlpha(one, p.epsilon);
    HeadScores first(alpha.layers, alpha.heads);
    for (int64_t l = 0; l < alpha.layers; ++l)
        for (int64_t h = 0; h < alpha.heads; ++h)
            first.at(l, h) = alpha.at(l, h, 0);
    r.set("epsilon", p.epsilon).set("length", p.length).set("analysed_length", alpha.length);
    r.add("alpha", {alpha.layers, alpha.heads, alpha.length}, alpha.values, "layer,head,key");
    addHeads(r, "alpha_first", first);
    r.add("sink_rate", {rate.length}, rate.percent, "key");
    addFlags(r, "is_sink", above(first, p.epsilon), alpha.layers, alpha.heads);
    return r;
}

AnalysisResult firstToken(RunReader& run, AttentionSource&) {
    AnalysisResult r = result("first_token", "methods.md §1.1 (docs/methods.md 1.3); Xiao et al., Efficient Streaming "
                                             "Language Models with Attention Sinks (2023), §3.1, Fig. 12");
    const FirstTokenAttention a = firstTokenAttentionFromRun(run);
    r.set("input", std::string("/stats/first_mass"));
    addHeads(r, "last_row", a.lastRow);
    r.add("layer_mean", {int64_t(a.layerMean.size())}, a.layerMean, "layer");
    r.add("layer_std", {int64_t(a.layerStd.size())}, a.layerStd, "layer");
    return r;
}

AnalysisResult dormant(RunReader& run, AttentionSource&) {
    const DormantParams p;
    AnalysisResult r = result("dormant_heads", "methods.md §1.3 (docs/methods.md 1.4); Guo et al., Active-Dormant "
                                               "Attention Heads (arXiv 2410.13835); threshold is a tool default");
    const DormantHeads d = dormantHeadsFromRun(run, p);
    r.set("threshold", p.threshold).set("input", std::string("/stats/first_mass"));
    addHeads(r, "first_mass", d.firstMass);
    addFlags(r, "dormant", d.dormant, d.firstMass.layers, d.firstMass.heads);
    return r;
}

AnalysisResult residualPeaks(RunReader& run, AttentionSource&) {
    const NormRatioParams p;
    AnalysisResult r = result("residual_peaks", "methods.md §1.3 (docs/methods.md 1.5); Gu et al. (ICLR 2025) "
                                                "eval_activations_open_source.py");
    const ResidualPeaks peaks = residualPeaksFromRun(run, p);
    r.set("token", p.token).set("input", std::string("/stats/residual_norm"));
    r.add("ratio", {peaks.states}, peaks.ratio, "state");
    return r;
}

AnalysisResult massive(RunReader& run, AttentionSource&) {
    const MassiveActivationParams p;
    AnalysisResult r =
        result("massive_activations", "methods.md §1.4 (docs/methods.md 1.6); Sun, Chen, Kolter, Liu, "
                                      "Massive Activations in Large Language Models (2024), main_llm.py");
    const MassiveActivations m = massiveActivationsFromRun(run, p);
    r.set("min_abs", p.minAbs).set("median_ratio", p.medianRatio);
    r.set("input", std::string("/stats/residual_top_value, /stats/residual_abs_median"));
    std::vector<int32_t> where;
    std::vector<float> values;
    for (const MassiveActivation& a : m.found) {
        where.insert(where.end(), {int32_t(a.state), int32_t(a.token), int32_t(a.dim)});
        values.push_back(a.value);
    }
    const int64_t n = int64_t(values.size());
    r.add("entries", {n, 3}, where, "entry,state_token_dim");
    r.add("value", {n}, values, "entry");
    for (const auto& [name, v] :
         {std::pair{"top1", &m.top1}, {"top2", &m.top2}, {"top3", &m.top3}, {"abs_median", &m.absMedian}})
        r.add(name, {m.states}, *v, "state");
    r.add("truncated", {m.states}, std::vector<int32_t>(m.truncated.begin(), m.truncated.end()), "state");
    return r;
}

AnalysisResult actSinkKeys(RunReader& run, AttentionSource&) {
    const ActSinkParams p;
    AnalysisResult r = result("act_sinks", "methods.md §2.1 (docs/methods.md 1.7); Yu et al., Unveiling and "
                                           "Harnessing Hidden Attention Sinks (ACT, ICML 2024)");
    const ActSinks sinks = actSinks(keyAlphaFromRun(run), p);
    r.set("threshold", p.threshold).set("drop_first", int64_t(p.dropFirst)).set("input", std::string("/stats/alpha"));
    std::vector<int32_t> count, where;
    for (int64_t l = 0; l < sinks.layers; ++l)
        for (int64_t h = 0; h < sinks.heads; ++h) {
            count.push_back(int32_t(sinks.at(l, h).size()));
            for (int64_t k : sinks.at(l, h))
                where.insert(where.end(), {int32_t(l), int32_t(h), int32_t(k)});
        }
    r.add("count", {sinks.layers, sinks.heads}, count, kLayerHead);
    r.add("sinks", {int64_t(where.size() / 3), 3}, where, "sink,layer_head_key");
    return r;
}

AnalysisResult valueDrains(RunReader& run, AttentionSource&) {
    const NormRatioParams p;
    AnalysisResult r = result("value_drains", "methods.md §1.3 (docs/methods.md 1.5); Gu et al. (ICLR 2025) "
                                              "eval_activations_open_source.py");
    const ValueDrains drains = valueDrainsFromRun(run, p);
    r.set("token", p.token).set("input", std::string("/stats/value_norm"));
    r.add("per_kv_head", {drains.layers, drains.kvHeads}, drains.perKvHead, "layer,kv_head");
    r.add("per_layer", {drains.layers}, drains.perLayer, "layer");
    return r;
}

AnalysisResult entropy(RunReader& run, AttentionSource&) {
    AnalysisResult r = result("entropy", "methods.md §6.2 (docs/methods.md 2.5); HF bertology run_bertology.py");
    const HeadEntropy e = headEntropyFromRun(run);
    r.set("input", std::string("/stats/entropy"));
    addHeads(r, "mean", e.mean);
    addHeads(r, "normalised", e.normalised);
    return r;
}

// A streamed analysis of one visitor V whose finish fills the result from it.
template <typename V, typename Fill>
StreamedAnalysis oneVisitor(std::unique_ptr<V> visitor, AnalysisResult r, Fill fill) {
    V* v = visitor.get();
    StreamedAnalysis s;
    s.visitors.push_back(std::move(visitor));
    s.finish = [v, r = std::move(r), fill]() mutable {
        fill(r, *v);
        return std::move(r);
    };
    return s;
}

StreamedAnalysis previousToken(RunReader&, AttentionSource& source) {
    AnalysisResult r = result("previous_token", "methods.md §7.2 (docs/methods.md 2.2); Olsson et al., In-context "
                                                "Learning and Induction Heads (2022)");
    return oneVisitor(std::make_unique<PreviousTokenVisitor>(source), std::move(r),
                      [](AnalysisResult& r, const PreviousTokenVisitor& v) { addHeads(r, "score", v.result()); });
}

StreamedAnalysis positional(RunReader&, AttentionSource& source) {
    const PositionalParams p;
    AnalysisResult r = result("positional", "methods.md §7.2 (docs/methods.md 2.3); Voita et al., Analyzing "
                                            "Multi-Head Self-Attention (ACL 2019), §5.1");
    r.set("min_share", p.minShare);
    return oneVisitor(std::make_unique<PositionalVisitor>(source, p), std::move(r),
                      [](AnalysisResult& r, const PositionalVisitor& v) {
                          const PositionalHeads& heads = v.result();
                          addHeads(r, "share", heads.share);
                          r.add("offset", {heads.share.layers, heads.share.heads},
                                std::vector<int32_t>(heads.offset.begin(), heads.offset.end()), kLayerHead);
                          addFlags(r, "positional", heads.positional, heads.share.layers, heads.share.heads);
                      });
}

StreamedAnalysis confidence(RunReader&, AttentionSource& source) {
    const ConfidenceParams p;
    AnalysisResult r = result("confidence", "methods.md §7.2 (docs/methods.md 2.4); Voita et al. (ACL 2019), §4");
    r.set("end_token_id", int64_t(p.endTokenId));
    return oneVisitor(std::make_unique<ConfidenceVisitor>(source, std::span<const int32_t>(), p), std::move(r),
                      [](AnalysisResult& r, const ConfidenceVisitor& v) { addHeads(r, "confidence", v.result()); });
}

StreamedAnalysis headDetector(RunReader& run, AttentionSource& source) {
    const HeadDetectorParams p;
    AnalysisResult r = result("head_detector", "methods.md §7.1 (docs/methods.md 2.1); TransformerLens "
                                               "head_detector.py detect_head");
    r.set("error_measure", std::string(p.errorMeasure == ErrorMeasure::Mul ? "mul" : "abs"));
    r.set("exclude_bos", int64_t(p.excludeBos)).set("exclude_current_token", int64_t(p.excludeCurrentToken));
    r.set("tokens", std::string("/tokens/ids"));
    const std::vector<int32_t>& ids = run.tokens().ids; // the reader outlives the visitors
    const std::pair<const char*, DetectionPattern> patterns[] = {{"previous_token", DetectionPattern::PreviousToken},
                                                                 {"duplicate_token", DetectionPattern::DuplicateToken},
                                                                 {"induction", DetectionPattern::Induction}};
    StreamedAnalysis s;
    std::vector<std::pair<std::string, HeadDetectorVisitor*>> named;
    for (const auto& [name, pattern] : patterns) {
        auto v = std::make_unique<HeadDetectorVisitor>(source, ids, pattern, p);
        named.emplace_back(name, v.get());
        s.visitors.push_back(std::move(v));
    }
    s.finish = [r = std::move(r), named]() mutable {
        for (const auto& [name, v] : named)
            addHeads(r, name, v->result());
        return std::move(r);
    };
    return s;
}

void addRollout(AnalysisResult& r, const Rollout& out) {
    r.add("values", {int64_t(out.outputRows.size()), out.length}, out.values, "output,key");
    r.add("output_rows", {int64_t(out.outputRows.size())},
          std::vector<int32_t>(out.outputRows.begin(), out.outputRows.end()), "output");
}

StreamedAnalysis rolloutResult(RunReader&, AttentionSource& source) {
    const RolloutParams p;
    AnalysisResult r = result("rollout", "methods.md §6.1 (docs/methods.md 5.2); Abnar & Zuidema, Quantifying "
                                         "Attention Flow in Transformers (ACL 2020), compute_joint_attention");
    r.set("add_residual", int64_t(p.addResidual)).set("last_layer", p.lastLayer);
    // Every output row while the dense form is allowed (it multiplies whole layers, upward: no pass to share);
    // beyond it the last token's row, which streams at any T.
    const int64_t T = source.length();
    if (T <= kRolloutMaxTokens) {
        StreamedAnalysis s;
        s.finish = [r = std::move(r), &source, p]() mutable {
            addRollout(r, rollout(source, p));
            return std::move(r);
        };
        return s;
    }
    const int64_t last[] = {T - 1};
    return oneVisitor(std::make_unique<RolloutRowsVisitor>(source, last, p), std::move(r),
                      [](AnalysisResult& r, const RolloutRowsVisitor& v) { addRollout(r, v.result()); });
}

// compute for a streamed entry: its visitors in a pass of their own.
std::function<AnalysisResult(RunReader&, AttentionSource&)>
alone(std::function<StreamedAnalysis(RunReader&, AttentionSource&)> stream) {
    return [stream](RunReader& run, AttentionSource& source) {
        StreamedAnalysis one[] = {stream(run, source)};
        return std::move(runStreamed(one, source).front());
    };
}

AnalysisResult flowResult(RunReader&, AttentionSource& source) {
    const FlowParams p;
    AnalysisResult r = result("attention_flow", "methods.md §6.1 (docs/methods.md 5.3); Abnar & Zuidema (ACL "
                                                "2020), compute_flows; max-flow by Dinic");
    r.set("add_residual", int64_t(p.addResidual)).set("last_layer", p.lastLayer);
    const int64_t last[] = {source.length() - 1}; // one max-flow per input token: the last output row only
    addRollout(r, attentionFlow(source, last, p));
    return r;
}

std::vector<AnalysisEntry> buildCatalog() {
    auto always = [](RunReader&) { return std::string(); };
    auto twoTokens = [](RunReader& run) { return needsTokens(run, 2); };
    std::vector<AnalysisEntry> catalog = {
        {"first_token", "last-token attention to the first token per head (StreamingLLM)", always, firstToken,
         summarizeFirstToken},
        {"dormant_heads", "heads that park nearly all attention on the first token", twoTokens, dormant,
         summarizeDormant},
        {"entropy", "mean attention entropy per head, plain and normalised", twoTokens, entropy, summarizeEntropy},
        {"residual_peaks", "residual-state norm of token 0 over the others, per layer",
         [](RunReader& run) {
             return run.residualNorms().empty() ? std::string("the capture kept no residual norms")
                                                : needsTokens(run, 2);
         },
         residualPeaks, summarizeResidualPeaks},
        {"massive_activations", "residual-stream entries above 100 and 1000x their state's median (Sun et al.)",
         [](RunReader& run) {
             return run.residualExtremes().states == 0
                        ? std::string("the capture kept no residual extremes (it predates them; capture again)")
                        : std::string();
         },
         massive, summarizeMassive},
        {"value_drains", "value-state norm of token 0 over the others, per KV head", twoTokens, valueDrains,
         summarizeValueDrains},
        {"act_sinks", "ACT's sinks beyond the first per head: keys whose alpha exceeds 0.1", always, actSinkKeys,
         summarizeActSinks},
        {"sinks", "alpha per key and the sink rate Sink_k^eps over the first 64 tokens (Gu et al.)", always, sinks,
         summarizeSinks},
        {"previous_token", "Olsson et al.'s previous-token score per head", twoTokens, alone(previousToken),
         summarizePreviousToken, false, previousToken},
        {"positional", "Voita et al.'s positional heads: the most frequent row-maximum offset and its share", always,
         alone(positional), summarizePositional, false, positional},
        {"confidence", "Voita et al.'s head confidence: the mean row maximum", always, alone(confidence),
         summarizeConfidence, false, confidence},
        {"head_detector", "TransformerLens detect_head scores: previous-token, duplicate-token, induction", twoTokens,
         alone(headDetector), summarizeHeadDetector, false, headDetector},
        {"rollout", "attention rollout (every output row up to 1024 tokens, else the last)", always,
         alone(rolloutResult), summarizeRollout, false, rolloutResult},
        {"attention_flow", "attention flow from the last token (runs of at most 128 tokens)",
         [](RunReader& run) {
             const int64_t T = run.layout().tokens;
             return T <= kFlowMaxTokens
                        ? std::string()
                        : fmt::format("attention flow is limited to {} tokens and the run has {}", kFlowMaxTokens, T);
         },
         flowResult, summarizeFlow},
    };
    // Scores of the built-in probes last: each streams every row of every head once.
    for (AnalysisEntry& entry : probeAnalysisEntries())
        catalog.push_back(std::move(entry));
    catalog.push_back(anchorAnalysisEntry());
    return catalog;
}

} // namespace

const std::vector<AnalysisEntry>& analysisCatalog() {
    static const std::vector<AnalysisEntry> catalog = buildCatalog();
    return catalog;
}

std::vector<const AnalysisEntry*> selectAnalyses(std::span<const std::string> names) {
    const auto& catalog = analysisCatalog();
    for (const std::string& name : names)
        if (std::none_of(catalog.begin(), catalog.end(), [&](const AnalysisEntry& e) { return e.name == name; })) {
            std::string valid;
            for (const AnalysisEntry& e : catalog)
                valid += (valid.empty() ? "" : ", ") + e.name;
            throw ArgumentError("There is no analysis named '" + name + "'; the analyses are " + valid + ".");
        }
    std::vector<const AnalysisEntry*> chosen;
    for (const AnalysisEntry& e : catalog)
        if (names.empty() ? !e.onRequest : std::find(names.begin(), names.end(), e.name) != names.end())
            chosen.push_back(&e);
    return chosen;
}

std::vector<AnalysisResult> runStreamed(std::span<StreamedAnalysis> analyses, AttentionSource& source,
                                        const std::function<void(int64_t)>& afterLayer) {
    std::vector<RowVisitor*> visitors;
    for (StreamedAnalysis& a : analyses)
        for (const auto& v : a.visitors)
            visitors.push_back(v.get());
    if (!visitors.empty()) streamRows(source, visitors, afterLayer);
    std::vector<AnalysisResult> results;
    for (StreamedAnalysis& a : analyses)
        results.push_back(a.finish());
    return results;
}

std::string headLabel(int64_t layer, int64_t head) {
    return fmt::format("L{}H{}", layer, head);
}

} // namespace attnscope::core

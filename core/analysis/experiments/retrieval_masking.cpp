#include "analysis/experiments/retrieval_masking.hpp"

#include "errors.hpp"
#include "intervene/logit_metrics.hpp"
#include "jobs/progress.hpp"
#include "runtime/transformer.hpp"
#include "split_mix.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace attnscope::core {
namespace {

using Json = nlohmann::ordered_json;

EditSet maskOf(const std::vector<HeadRef>& heads, AblationMethod method) {
    HeadAblation a;
    a.method = method;
    a.heads = heads;
    EditSet set;
    set.edits.push_back(std::move(a));
    return set;
}

MaskingSpread spreadOf(const std::vector<double>& v) {
    MaskingSpread s;
    if (v.empty()) return s;
    s.mean = std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
    double var = 0;
    for (double x : v)
        var += (x - s.mean) * (x - s.mean);
    s.sd = v.size() > 1 ? std::sqrt(var / double(v.size() - 1)) : 0.0;
    s.min = *std::min_element(v.begin(), v.end());
    s.max = *std::max_element(v.begin(), v.end());
    const double half = v.size() > 1 ? tQuantile95(int64_t(v.size())) * s.sd / std::sqrt(double(v.size())) : 0.0;
    s.ciLow = s.mean - half;
    s.ciHigh = s.mean + half;
    return s;
}

class ConditionRunner {
public:
    ConditionRunner(Transformer& model, std::string_view haystack, std::span<const NeedleCase> needles,
                    const RetrievalMaskingParams& p, Progress* progress)
        : m_model(model), m_haystack(haystack), m_needles(needles), m_params(p), m_progress(progress) {}

    // The unmasked haystack run: the ranking and the baseline's haystack numbers.
    RetrievalResult rank(MaskingCondition& c) {
        RetrievalResult r = runRetrievalExperiment(m_model, m_haystack, m_needles, m_params.retrieval, m_progress);
        haystackNumbers(r, c);
        organism(c);
        return r;
    }

    void measure(MaskingCondition& c) {
        const EditSet edits = maskOf(c.heads, m_params.method);
        if (m_params.haystack)
            haystackNumbers(
                runRetrievalExperiment(m_model, m_haystack, m_needles, m_params.retrieval, m_progress, edits), c);
        organism(c, edits);
    }

private:
    static void haystackNumbers(const RetrievalResult& r, MaskingCondition& c) {
        c.tests = int64_t(r.tests.size());
        c.kept = r.kept();
        double recall = 0;
        for (const RetrievalTest& t : r.tests)
            recall += t.recall;
        c.successRate = double(c.kept) / double(std::max<int64_t>(1, c.tests));
        c.meanRecall = recall / double(std::max<int64_t>(1, c.tests));
    }

    void organism(MaskingCondition& c, const EditSet& edits = {}) {
        if (!m_params.organism) return;
        OrganismEvalOptions o = *m_params.organism;
        o.edits = edits;
        o.repeats = 0; // questions only: the repeated spans measure induction, not retrieval
        const OrganismEval e = evaluateOrganism(m_model, o, m_progress);
        c.questions = e.questions;
        c.answered = e.answered;
        c.answerAccuracy = e.answerAccuracy;
    }

    Transformer& m_model;
    std::string_view m_haystack;
    std::span<const NeedleCase> m_needles;
    const RetrievalMaskingParams& m_params;
    Progress* m_progress;
};

Json headsJson(const std::vector<HeadRef>& heads) {
    Json a = Json::array();
    for (const HeadRef& h : heads)
        a.push_back(formatHeadRef(h));
    return a;
}

Json spreadJson(const MaskingSpread& s) {
    return {{"mean", s.mean}, {"sd", s.sd}, {"min", s.min}, {"max", s.max}, {"ci95", {s.ciLow, s.ciHigh}}};
}

} // namespace

std::vector<HeadRef> drawRandomHeads(std::vector<HeadRef> pool, int64_t k, uint64_t seed) {
    if (k > int64_t(pool.size()))
        throw ArgumentError(fmt::format("Cannot draw {} random heads from {}.", k, pool.size()));
    SplitMix64 rng(mix64(seed));
    for (int64_t i = 0; i < k; ++i)
        std::swap(pool[size_t(i)], pool[size_t(rng.between(i, int64_t(pool.size()) - 1))]);
    pool.resize(size_t(k));
    std::sort(pool.begin(), pool.end(), [](const HeadRef& a, const HeadRef& b) {
        return std::pair(a.layer, a.head) < std::pair(b.layer, b.head);
    });
    return pool;
}

RetrievalMaskingResult runRetrievalMasking(Transformer& model, std::string_view haystack,
                                           std::span<const NeedleCase> needles, const RetrievalMaskingParams& p,
                                           Progress* progress) {
    const ModelConfig& c = model.config();
    if (p.k < 1) throw ArgumentError(fmt::format("The masking experiment masks at least one head, not {}.", p.k));
    if (p.k > c.nLayers * c.nHeads)
        throw ArgumentError(fmt::format("Cannot mask {} heads of a model with {}.", p.k, c.nLayers * c.nHeads));
    if (p.randomSeeds < 1)
        throw ArgumentError(
            fmt::format("The masking experiment needs at least one random draw, not {}.", p.randomSeeds));
    const std::vector<std::pair<int64_t, int64_t>> keptOut = expandHeads(p.keepOutOfRandom, c); // sorted
    if (c.nLayers * c.nHeads - int64_t(keptOut.size()) < p.k) // before the ranking run, which takes a while
        throw ArgumentError(
            fmt::format("Keeping out {} heads leaves {} of the model's {}: too few to draw {} at random.",
                        keptOut.size(), c.nLayers * c.nHeads - int64_t(keptOut.size()), c.nLayers * c.nHeads, p.k));
    RetrievalMaskingResult r;
    r.params = p;
    r.layers = c.nLayers;
    r.heads = c.nHeads;
    ConditionRunner runner(model, haystack, needles, p, progress);

    r.baseline.name = "none";
    const RetrievalResult ranked = runner.rank(r.baseline);
    r.params.retrieval = ranked.params;
    // Every head, best first (ties in (layer, head) order), so the top-K exist even when fewer heads score.
    const std::vector<RankedHead> all = rankHeads(ranked.score, -1.0);
    for (const RankedHead& h : all)
        if (h.score > 0) r.ranking.push_back(h);
    r.top.name = "top";
    for (int64_t i = 0; i < p.k; ++i)
        r.top.heads.push_back({all[size_t(i)].layer, all[size_t(i)].head, false});
    // The reference draws random heads outside its top-100 list (about a tenth of the heads, all of them scoring);
    // here outside the top-K, every head that scored at all and the heads the user keeps out.
    std::vector<HeadRef> pool;
    for (size_t i = 0; i < all.size(); ++i) {
        const HeadRef h{all[i].layer, all[i].head, false};
        if (int64_t(i) < p.k || all[i].score > 0 ||
            std::binary_search(keptOut.begin(), keptOut.end(), std::pair(h.layer, h.head)))
            r.excluded.push_back(h);
        else
            pool.push_back(h);
    }
    if (int64_t(pool.size()) < p.k)
        throw ArgumentError(fmt::format("Only {} heads lie outside the top {}, the heads with a retrieval score and "
                                        "the heads kept out: too few to draw {} at random.",
                                        pool.size(), p.k, p.k));
    std::sort(pool.begin(), pool.end(), [](const HeadRef& a, const HeadRef& b) {
        return std::pair(a.layer, a.head) < std::pair(b.layer, b.head);
    });

    runner.measure(r.top);
    std::vector<double> success, accuracy;
    for (int64_t s = 0; s < p.randomSeeds; ++s) {
        MaskingCondition m;
        m.name = "random";
        m.seed = p.seed + uint64_t(s);
        m.heads = drawRandomHeads(pool, p.k, m.seed);
        runner.measure(m);
        success.push_back(m.successRate);
        accuracy.push_back(m.answerAccuracy);
        r.random.push_back(std::move(m));
    }
    r.randomSuccess = spreadOf(success);
    r.randomAccuracy = spreadOf(accuracy);
    return r;
}

std::string retrievalMaskingJson(const RetrievalMaskingResult& r) {
    const RetrievalMaskingParams& p = r.params;
    Json params = {{"k", p.k},
                   {"random_seeds", p.randomSeeds},
                   {"seed", p.seed},
                   {"method", ablationMethodName(p.method)},
                   {"mask_during", "decoding (haystack); every position (organism questions, teacher-forced)"},
                   {"lengths", p.retrieval.lengths},
                   {"depths", p.retrieval.depths},
                   {"buffer", p.retrieval.buffer},
                   {"max_new_tokens", p.retrieval.maxNewTokens},
                   {"min_recall", p.retrieval.minRecall},
                   {"haystack_masked", p.haystack},
                   {"kept_out_of_random", formatHeadList(p.keepOutOfRandom)}};
    if (p.organism)
        params["organism"] = {{"seed", p.organism->seed},
                              {"questions", p.organism->questions},
                              {"min_distance", p.organism->minDistance}};
    Json ranking = Json::array();
    for (const RankedHead& h : r.ranking)
        ranking.push_back({{"head", formatHeadRef({h.layer, h.head, false})}, {"score", h.score}});
    auto condition = [&](const MaskingCondition& c) {
        Json j = {{"name", c.name}, {"heads", headsJson(c.heads)}};
        if (c.name == "random") j["seed"] = c.seed;
        if (p.haystack || c.name == "none")
            j["haystack"] = {
                {"tests", c.tests}, {"kept", c.kept}, {"success_rate", c.successRate}, {"mean_recall", c.meanRecall}};
        if (p.organism)
            j["organism"] = {{"questions", c.questions}, {"answered", c.answered}, {"accuracy", c.answerAccuracy}};
        return j;
    };
    Json random = Json::array();
    for (const MaskingCondition& c : r.random)
        random.push_back(condition(c));
    Json summary = Json::object();
    if (p.haystack) summary["haystack_success_rate"] = spreadJson(r.randomSuccess);
    if (p.organism) summary["organism_accuracy"] = spreadJson(r.randomAccuracy);
    Json j = {{"experiment", "retrieval_masking"},
              {"source", "methods.md §3.2 (Wu et al., needle_in_haystack_with_mask.py)"},
              {"model", r.model},
              {"haystack", r.haystack},
              {"needles", r.needlesFile},
              {"layers", r.layers},
              {"heads", r.heads},
              {"params", params},
              {"ranking", ranking},
              {"excluded_from_random", headsJson(r.excluded)},
              {"baseline", condition(r.baseline)},
              {"top", condition(r.top)},
              {"random", random},
              {"random_summary", summary}};
    return j.dump(2) + "\n";
}

std::string retrievalMaskingTable(const RetrievalMaskingResult& r) {
    const bool hay = r.params.haystack, org = r.params.organism.has_value();
    std::string s = "retrieval heads by score (unmasked haystack run):";
    for (size_t i = 0; i < std::min<size_t>(r.ranking.size(), 10); ++i)
        s += fmt::format(" L{}H{} {:.3f}", r.ranking[i].layer, r.ranking[i].head, r.ranking[i].score);
    s += r.ranking.empty() ? " none scored\n" : "\n";
    s += fmt::format("{:<8} {:<6} {:<24}", "mask", "seed", "heads");
    if (hay) s += fmt::format(" {:<18} {:>6}", "haystack passed", "change");
    if (org) s += fmt::format(" {:<18} {:>6}", "organism answered", "change");
    s += "\n";
    auto row = [&](const MaskingCondition& c) {
        std::string heads = c.heads.empty() ? "-" : formatHeadList(c.heads);
        if (heads.size() > 24) heads = heads.substr(0, 21) + "...";
        std::string line =
            fmt::format("{:<8} {:<6} {:<24}", c.name, c.name == "random" ? std::to_string(c.seed) : "", heads);
        if (hay)
            line += fmt::format(" {:>6.1f}% ({:>3}/{:<3}) {:>+6.1f}", 100 * c.successRate, c.kept, c.tests,
                                100 * (c.successRate - r.baseline.successRate));
        if (org)
            line += fmt::format(" {:>6.1f}% ({:>3}/{:<3}) {:>+6.1f}", 100 * c.answerAccuracy, c.answered, c.questions,
                                100 * (c.answerAccuracy - r.baseline.answerAccuracy));
        return line + "\n";
    };
    s += row(r.baseline);
    s += row(r.top);
    for (const MaskingCondition& c : r.random)
        s += row(c);
    std::string mean =
        fmt::format("{:<8} {:<6} {:<24}", "random", "mean", fmt::format("sd over {} draws", r.random.size()));
    if (hay)
        mean += fmt::format(" {:>6.1f}% ± {:<7.1f} {:>+6.1f}", 100 * r.randomSuccess.mean, 100 * r.randomSuccess.sd,
                            100 * (r.randomSuccess.mean - r.baseline.successRate));
    if (org)
        mean += fmt::format(" {:>6.1f}% ± {:<7.1f} {:>+6.1f}", 100 * r.randomAccuracy.mean, 100 * r.randomAccuracy.sd,
                            100 * (r.randomAccuracy.mean - r.baseline.answerAccuracy));
    s += mean + "\n";
    if (!hay) s += "(haystack tests not run under the masks: --no-haystack)\n";
    return s;
}

} // namespace attnscope::core

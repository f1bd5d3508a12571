#include "jobs/anchors_job.hpp"

#include "analysis/resampling_importance.hpp"
#include "analysis/sentence_spans.hpp"
#include "errors.hpp"
#include "jobs/analyze_job.hpp"
#include "jobs/progress.hpp"
#include "runtime/transformer.hpp"
#include "store/analysis_writer.hpp"
#include "store/run_reader.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace attnscope::core {

namespace {

std::string field(const nlohmann::json& j, const char* name, const std::string& origin, bool required) {
    if (!j.contains(name)) {
        if (required) throw FormatError(fmt::format("Trace '{}' is JSON without a \"{}\" string.", origin, name));
        return {};
    }
    if (!j[name].is_string())
        throw FormatError(fmt::format("Trace '{}' has a \"{}\" that is not a string.", origin, name));
    return j[name].get<std::string>();
}

std::string excerpt(const std::string& s, size_t limit = 48) {
    if (s.size() <= limit) return s;
    size_t cut = limit;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80)
        --cut;
    return s.substr(0, cut) + "...";
}

void topRows(std::string& out, const char* title, const std::vector<double>& score,
             const std::vector<std::string>& texts, int64_t top) {
    std::vector<size_t> order(score.size());
    std::iota(order.begin(), order.end(), 0);
    std::erase_if(order, [&](size_t j) { return std::isnan(score[j]); });
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return score[a] > score[b]; });
    out += fmt::format("{}\n", title);
    for (size_t k = 0; k < std::min<size_t>(size_t(top), order.size()); ++k)
        out += fmt::format("  #{:<4} {:>10.4g}  {}\n", order[k], score[order[k]],
                           excerpt(order[k] < texts.size() ? texts[order[k]] : std::string()));
}

} // namespace

std::string traceText(const std::string& file, const std::string& origin) {
    const size_t first = file.find_first_not_of(" \t\r\n");
    if (first == std::string::npos || file[first] != '{') return file;
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(file);
    } catch (const nlohmann::json::parse_error& e) {
        throw FormatError(fmt::format("Trace '{}' starts like JSON but does not parse (byte {}).", origin, e.byte));
    }
    if (!j.is_object()) throw FormatError(fmt::format("Trace '{}' is JSON but not an object.", origin));
    const std::string reasoning = field(j, "reasoning", origin, true);
    return field(j, "prompt", origin, false) + "<think>\n" + reasoning + "\n</think>\n" +
           field(j, "answer", origin, false);
}

AnchorsReport runAnchors(Transformer& model, const std::filesystem::path& run, const SuppressionOptions& options,
                         Progress* progress) {
    RunTokens tokens;
    {
        RunReader reader(run);
        tokens = reader.tokens();
        if (reader.model().vocabSize != model.config().vocabSize)
            throw ArgumentError(fmt::format("Run file '{}' was captured with a vocabulary of {} tokens and the model "
                                            "has {}; give the run's model.",
                                            run.string(), reader.model().vocabSize, model.config().vocabSize));
    }
    AnalyzeOptions analyze;
    analyze.run = run;
    analyze.only = {"anchors"};
    AnalyzeReport white = analyzeRun(analyze, progress);

    AnchorsReport report;
    report.whiteBox = std::move(white.results.at(0));
    std::vector<SentenceSpan> sentences = segmentSentences(tokens.text);
    assignTokenRanges(sentences, tokens.spans);
    std::vector<std::array<int64_t, 2>> ranges;
    for (const SentenceSpan& s : sentences) {
        ranges.push_back({s.tokenBegin, s.tokenEnd});
        report.sentences.push_back(s.text);
    }
    const SuppressionMatrix m = suppressionMatrix(model, tokens.ids, ranges, options, progress);
    report.suppression = suppressionAnalysis(m, ranges);
    if (progress) progress->begin("write", 1);
    AnalysisWriter writer(run);
    writer.write(report.suppression);
    writer.commit();
    if (progress) progress->advance();
    return report;
}

std::string anchorsTable(const AnchorsReport& report, int64_t top) {
    std::string out = fmt::format("{} sentences\n", report.sentences.size());
    if (const AnalysisDataset* b = report.whiteBox.dataset("broadcast"))
        topRows(out, "receiver-head broadcast (mean vertical score over the top receiver heads):", b->toDoubles(),
                report.sentences, top);
    if (const AnalysisDataset* e = report.suppression.dataset("effect"))
        topRows(out, "suppression effect (mean over later sentences of ln(KL + 1e-9)):", e->toDoubles(),
                report.sentences, top);
    if (report.resampling)
        if (const AnalysisDataset* c = report.resampling->dataset("counterfactual_importance_kl"))
            topRows(out, "counterfactual importance (KL of the answers when the sentence means something else):",
                    c->toDoubles(), report.sentences, top);
    return out;
}

namespace {

nlohmann::json finiteOrNull(double v) {
    return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

std::vector<double> datasetDoubles(const AnalysisResult& r, const char* name) {
    const AnalysisDataset* d = r.dataset(name);
    return d ? d->toDoubles() : std::vector<double>{};
}

nlohmann::json parametersJson(const AnalysisResult& r) {
    nlohmann::json p = nlohmann::json::object();
    for (const auto& [key, value] : r.parameters)
        p[key] = std::visit(
            [](const auto& v) {
                if constexpr (std::is_same_v<std::decay_t<decltype(v)>, double>)
                    return finiteOrNull(v);
                else
                    return nlohmann::json(v);
            },
            value);
    return p;
}

// Per sentence: every §4.3 metric, the rollout counts and how often each normalised answer came back.
nlohmann::json resamplingJson(const AnalysisResult& r) {
    static const char* kMetrics[] = {"accuracy",
                                     "resampling_importance_accuracy",
                                     "resampling_importance_kl",
                                     "counterfactual_importance_accuracy",
                                     "counterfactual_importance_kl",
                                     "different_trajectories_fraction",
                                     "overdeterminedness",
                                     "forced_answer_accuracy",
                                     "forced_importance_accuracy",
                                     "forced_importance_kl"};
    const std::vector<double> counts = datasetDoubles(r, "counts");
    const AnalysisDataset* answers = r.dataset("rollout_answer");
    const size_t N = counts.size() / 4;
    nlohmann::json sentences = nlohmann::json::array();
    for (size_t i = 0; i < N; ++i) {
        nlohmann::json e = {{"index", i}};
        for (const char* name : kMetrics) {
            if (!r.dataset(name)) continue; // forced-answer metrics exist only with forced rollouts
            const std::vector<double> v = datasetDoubles(r, name);
            e[name] = i < v.size() ? finiteOrNull(v[i]) : nlohmann::json(nullptr);
        }
        e["rollouts"] = int64_t(counts[4 * i]);
        e["answered"] = int64_t(counts[4 * i + 1]);
        e["scored"] = int64_t(counts[4 * i + 2]);
        e["correct"] = int64_t(counts[4 * i + 3]);
        nlohmann::json tally = nlohmann::json::object();
        if (answers && N > 0 && answers->count() % int64_t(N) == 0) {
            const auto& a = std::get<std::vector<std::string>>(answers->values);
            const size_t R = a.size() / N; // flattened [sentence][rollout]
            for (size_t k = 0; k < R; ++k)
                if (const std::string n = normalizeAnswer(a[i * R + k]); !n.empty()) tally[n] = tally.value(n, 0) + 1;
        }
        e["answers"] = std::move(tally);
        sentences.push_back(std::move(e));
    }
    return {{"source", r.source},
            {"version", r.version},
            {"parameters", parametersJson(r)},
            {"sentences", std::move(sentences)}};
}

} // namespace

std::string anchorsJson(const AnchorsReport& report, const std::filesystem::path& run) {
    const AnalysisResult& w = report.whiteBox;
    const AnalysisResult& s = report.suppression;
    const std::vector<double> bytes = datasetDoubles(w, "sentence_bytes"),
                              tokens = datasetDoubles(w, "sentence_tokens"), broadcast = datasetDoubles(w, "broadcast"),
                              effect = datasetDoubles(s, "effect"), heads = datasetDoubles(w, "receiver_heads"),
                              kurtosis = datasetDoubles(w, "receiver_kurtosis"), matrix = datasetDoubles(s, "matrix");
    const size_t N = report.sentences.size();
    nlohmann::json sentences = nlohmann::json::array();
    for (size_t i = 0; i < N; ++i) {
        nlohmann::json e = {{"index", i}, {"text", report.sentences[i]}};
        if (bytes.size() == 2 * N) e["bytes"] = {int64_t(bytes[2 * i]), int64_t(bytes[2 * i + 1])};
        if (tokens.size() == 2 * N) e["tokens"] = {int64_t(tokens[2 * i]), int64_t(tokens[2 * i + 1])};
        e["broadcast"] = i < broadcast.size() ? finiteOrNull(broadcast[i]) : nlohmann::json(nullptr);
        e["suppression_effect"] = i < effect.size() ? finiteOrNull(effect[i]) : nlohmann::json(nullptr);
        sentences.push_back(std::move(e));
    }
    nlohmann::json receivers = nlohmann::json::array();
    for (size_t k = 0; 2 * k + 1 < heads.size(); ++k)
        receivers.push_back({{"layer", int64_t(heads[2 * k])},
                             {"head", int64_t(heads[2 * k + 1])},
                             {"kurtosis", k < kurtosis.size() ? finiteOrNull(kurtosis[k]) : nlohmann::json(nullptr)}});
    nlohmann::json rows = nlohmann::json::array();
    if (matrix.size() == N * N)
        for (size_t a = 0; a < N; ++a) {
            nlohmann::json row = nlohmann::json::array();
            for (size_t b = 0; b < N; ++b)
                row.push_back(finiteOrNull(matrix[a * N + b]));
            rows.push_back(std::move(row));
        }
    nlohmann::json effects = nlohmann::json::array();
    for (double v : effect)
        effects.push_back(finiteOrNull(v));
    const AnalysisDataset* m = s.dataset("matrix");
    nlohmann::json j = {
        {"file", run.string()},
        {"sentences", std::move(sentences)},
        {"receiver_heads", std::move(receivers)},
        {"white_box", {{"source", w.source}, {"version", w.version}, {"parameters", parametersJson(w)}}},
        {"suppression",
         {{"source", s.source},
          {"version", s.version},
          {"parameters", parametersJson(s)},
          {"axes", m ? m->axes : std::string()},
          {"matrix", std::move(rows)},
          {"effect", std::move(effects)}}}};
    if (report.resampling) j["resampling"] = resamplingJson(*report.resampling);
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace attnscope::core

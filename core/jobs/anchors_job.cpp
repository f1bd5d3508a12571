#include "jobs/anchors_job.hpp"

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
    return out;
}

} // namespace attnscope::core

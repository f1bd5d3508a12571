#include "jobs/analyze_job.hpp"

#include "analysis/attention_source.hpp"
#include "errors.hpp"
#include "jobs/analysis_catalog.hpp"
#include "jobs/progress.hpp"
#include "store/analysis_writer.hpp"
#include "store/run_reader.hpp"

#include <fmt/format.h>

namespace attnscope::core {

AnalyzeReport analyzeRun(const AnalyzeOptions& options, Progress* progress) {
    const std::vector<const AnalysisEntry*> chosen = selectAnalyses(options.only);
    // The session starts first: a read-only, missing or foreign file is reported before any work, and the commit
    // refuses if the run changes while its analyses are computed (they would describe the old file).
    AnalysisWriter writer(options.run);
    AnalyzeReport report;
    {
        RunReader reader(options.run);
        RunAttention attention(reader);
        report.tokens = reader.tokens();
        // Every refusal before the first unit of progress, so that a refused run prints one sentence and no bar.
        std::vector<std::string> why;
        for (const AnalysisEntry* entry : chosen) {
            why.push_back(entry->unavailable(reader));
            if (!why.back().empty() && !options.only.empty())
                throw UnsupportedError("Run file '" + options.run.string() + "' cannot give analysis '" + entry->name +
                                       "': " + why.back() + ".");
        }
        if (progress) progress->begin("analyze", int64_t(chosen.size()));
        // The streaming analyses share one pass over the maps, run where the first of them comes (the catalog puts
        // them after the statistics-only ones); each row block of each head is then made once, not once per metric.
        std::vector<StreamedAnalysis> streamed;
        std::vector<AnalysisResult> streamedResults;
        std::string passNames;
        for (size_t i = 0; i < chosen.size(); ++i)
            if (why[i].empty() && chosen[i]->stream) {
                streamed.push_back(chosen[i]->stream(reader, attention));
                passNames += (passNames.empty() ? "" : ", ") + chosen[i]->name;
            }
        size_t nextStreamed = 0;
        for (size_t i = 0; i < chosen.size(); ++i) {
            if (progress && progress->cancelled()) throw Cancelled();
            if (progress) progress->setDetail(chosen[i]->name);
            if (!why[i].empty()) {
                report.skipped.emplace_back(chosen[i]->name, why[i]);
            } else if (chosen[i]->stream) {
                if (nextStreamed == 0)
                    streamedResults = runStreamed(streamed, attention, [&](int64_t layersDone) {
                        if (!progress) return;
                        if (progress->cancelled()) throw Cancelled();
                        progress->setDetail(
                            fmt::format("one pass for {}: layer {} of {}", passNames, layersDone, attention.layers()));
                    });
                report.results.push_back(std::move(streamedResults[nextStreamed++]));
            } else {
                report.results.push_back(chosen[i]->compute(reader, attention));
            }
            if (progress) progress->advance();
        }
    }
    if (progress && progress->cancelled()) throw Cancelled();
    if (progress) progress->begin("write", 1);
    // One session for every result: the file is copied once and replaced once, whatever the count.
    for (const AnalysisResult& r : report.results)
        writer.write(r);
    writer.commit();
    if (progress) progress->advance();
    // The stamps the writer gave, so that callers print what the file now holds.
    RunReader written(options.run);
    for (AnalysisResult& r : report.results)
        r.created = written.analysis(r.name).created;
    return report;
}

} // namespace attnscope::core

#include "intervene/experiment_run.hpp"

#include "capture/capture_job.hpp"
#include "errors.hpp"
#include "store/analysis_writer.hpp"
#include "store/run_reader.hpp"

namespace attnscope::core {

void checkRunHolds(const std::filesystem::path& run, const std::vector<int32_t>& ids) {
    if (!std::filesystem::exists(run)) return;
    const std::vector<int32_t> stored = RunReader(run).tokens().ids;
    if (stored != ids)
        throw ArgumentError("Run file '" + run.string() + "' holds other tokens (" + std::to_string(stored.size()) +
                            ") than the text of this experiment (" + std::to_string(ids.size()) +
                            "); give a new --out path or the run of this text.");
}

bool storeInRun(Transformer& model, const std::vector<int32_t>& ids, const std::filesystem::path& run,
                std::span<const AnalysisResult> results, const EditSet& edits, Progress* progress) {
    bool captured = false;
    if (std::filesystem::exists(run)) {
        checkRunHolds(run, ids);
    } else {
        CaptureOptions options;
        options.promptIds = ids;
        options.out = run;
        options.edits = edits;
        captureRun(model, options, progress);
        captured = true;
    }
    writeAnalyses(run, results);
    return captured;
}

} // namespace attnscope::core

// `attnscope-cli calibrate MODEL --task FILE`: ACT on explicit or screened heads, scored on a task file before and
// after; optionally a calibrated capture of the first prompt and the edits as JSON for `capture --edits`.
#include "cli_common.hpp"

#include "errors.hpp"
#include "intervene/calibration_experiment.hpp"
#include "intervene/experiment_run.hpp"
#include "jobs/progress.hpp"
#include "model/tokenizer.hpp"
#include "progress_bar.hpp"
#include "runtime/transformer.hpp"

#include <fmt/core.h>

#include <fstream>

namespace attnscope::app {
namespace {

struct CalibrateArgs {
    std::string task, heads, out, editsOut;
    core::CalibrationParams params;
};

} // namespace

void addCalibrateCommand(CLI::App& app) {
    auto* cmd = app.add_subcommand("calibrate", "ACT attention calibration (Yu et al.): scale each head's non-<bos> "
                                                "sinks by beta and give the rest to the other keys; loss, exact-match "
                                                "accuracy and KL on a task file before and after, or a per-head "
                                                "screening table (--screen)");
    auto args = std::make_shared<ModelArgs>();
    auto a = std::make_shared<CalibrateArgs>();
    args->addTo(*cmd);
    cmd->add_option("--task", a->task, "task file: 'prompt<TAB>expected answer' per line")->required();
    cmd->add_option("--beta", a->params.act.beta, "share of its attention a sink keeps")->capture_default_str();
    cmd->add_option("--threshold", a->params.act.threshold, "a key is a sink when its mean attention exceeds this")
        ->capture_default_str();
    auto* heads = cmd->add_option("--heads", a->heads, "heads to calibrate: L.H, L.kvH or L.*, comma-separated "
                                                       "(default: every head of layers 2..L-2, as the reference)");
    auto* screen = cmd->add_flag("--screen", a->params.screen,
                                 "calibrate each head alone, keep those that beat the baseline, then calibrate them "
                                 "together");
    heads->excludes(screen);
    cmd->add_flag("--all-layers", a->params.screenAllLayers, "screen every layer, not only 2..L-2")->needs(screen);
    cmd->add_option("--out", a->out, "capture the first prompt with the calibration attached to this run file and "
                                     "store /analysis/calibration in it");
    cmd->add_option("--edits-out", a->editsOut, "write the applied calibration as edits JSON (for capture --edits)");
    cmd->callback([args, a] {
        core::CalibrationParams p = a->params;
        p.act.heads = core::parseHeadList(a->heads);
        const std::vector<core::TaskItem> items = core::readTaskFile(a->task);
        auto model = args->load();
        core::validateEditSet(core::EditSet{{p.act}}, model->config()); // before the progress bar draws
        core::Progress progress;
        core::CalibrationReport report;
        runWithProgressBar(progress, [&] {
            report = core::runCalibration(*model, items, p, &progress);
            if (a->out.empty()) return;
            const core::AnalysisResult result = core::calibrationAnalysis(report);
            const std::vector<int32_t> ids = model->tokenizer().encode(items.front().prompt, true).ids;
            core::storeInRun(*model, ids, a->out, std::span<const core::AnalysisResult>(&result, 1), report.edits(),
                             &progress);
        });
        fmt::print("{}", core::calibrationTable(report));
        if (!a->editsOut.empty()) {
            std::ofstream f(a->editsOut, std::ios::binary);
            f << core::editSetToJson(report.edits()) << "\n";
            if (!f) throw core::FileError("Cannot write the edits file '" + a->editsOut + "'.");
            fmt::print("wrote {}\n", a->editsOut);
        }
        if (!a->out.empty()) fmt::print("wrote /analysis/calibration to {}\n", a->out);
    });
}

} // namespace attnscope::app

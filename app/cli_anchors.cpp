// `attnscope-cli anchors MODEL --trace FILE` and `attnscope-cli anchors RUN`: Thought Anchors' white-box analysis and
// attention-suppression matrix of a reasoning trace, written into its run file, with the top sentences printed.
#include "cli_common.hpp"

#include "analysis/sentence_attention.hpp"
#include "analysis/sentence_spans.hpp"
#include "capture/capture_job.hpp"
#include "errors.hpp"
#include "intervene/experiment_run.hpp"
#include "jobs/anchors_job.hpp"
#include "jobs/progress.hpp"
#include "model/tokenizer.hpp"
#include "progress_bar.hpp"
#include "runtime/transformer.hpp"
#include "store/run_reader.hpp"

#include <fmt/core.h>

namespace attnscope::app {
namespace {

struct AnchorsArgs {
    std::string target, trace, out, model;
    int64_t top = 5;
    bool json = false;
    core::SuppressionOptions suppression;
};

bool isRunFile(const std::string& path) {
    return std::filesystem::path(path).extension() == ".h5";
}

} // namespace

void addAnchorsCommand(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "anchors", "Thought Anchors on a reasoning trace: sentence attention and receiver heads (white-box) and the "
                   "attention-suppression matrix (KL of each later sentence when a sentence is suppressed)");
    auto args = std::make_shared<ModelArgs>();
    auto a = std::make_shared<AnchorsArgs>();
    cmd->add_option("MODEL_OR_RUN", a->target,
                    "model folder or .gguf file (with --trace), or a run file (.h5) to analyse again")
        ->required();
    cmd->add_option("--trace", a->trace,
                    "the trace: plain UTF-8 text, or JSON {\"prompt\", \"reasoning\", "
                    "\"answer\"} (only the reasoning is segmented)");
    cmd->add_option("--out", a->out,
                    "run file of the trace (captured first when missing; default: <trace name>"
                    ".attn.h5 here)");
    cmd->add_option("--model", a->model,
                    "with a RUN: the model to suppress with (default: the model the run "
                    "was captured with)");
    cmd->add_option("--top", a->top, "sentences listed per score")->capture_default_str();
    cmd->add_option("--only-first", a->suppression.onlyFirst,
                    "average only the first N tokens of each affected sentence (0: all)")
        ->capture_default_str();
    cmd->add_flag("--json", a->json,
                  "print the results (sentences, receiver heads, broadcast, suppression matrix and effects) as JSON");
    cmd->add_option("--device", args->device, "cpu, cuda or cuda:N")->capture_default_str();
    cmd->add_option("--dtype", args->dtype, "compute dtype: f32, bf16 or f16 (softmax is always float32)")
        ->capture_default_str();
    cmd->add_option("--threads", args->threads, "CPU threads (0: all hardware threads)")->capture_default_str();
    cmd->callback([args, a] {
        std::filesystem::path run;
        std::vector<int32_t> ids;
        std::string text;
        if (isRunFile(a->target)) {
            if (!a->trace.empty()) throw core::ArgumentError("Give either MODEL --trace FILE or a RUN, not both.");
            if (!a->out.empty()) throw core::ArgumentError("--out goes with --trace; a RUN is written in place.");
            if (!std::filesystem::exists(a->target))
                throw core::FileError("Run file '" + a->target + "' does not exist.");
            run = a->target;
            args->model = a->model.empty() ? core::RunReader(run).model().source : a->model;
            if (!std::filesystem::exists(args->model))
                throw core::FileError("The model of run '" + a->target + "' ('" + args->model +
                                      "') is not here; give it with --model.");
        } else {
            if (a->trace.empty()) throw core::ArgumentError("Give --trace FILE with a MODEL (or a run file).");
            if (!a->model.empty()) throw core::ArgumentError("--model goes with a RUN; MODEL is already given.");
            text = core::traceText(readTextFile(a->trace, "trace"), a->trace);
            // Checked before the capture, so that a trace too short for vertical scores leaves no run behind.
            const size_t n = core::segmentSentences(text).size(),
                         need = size_t(core::VerticalOptions{}.proximityIgnore + 1);
            if (n < need)
                throw core::ArgumentError(fmt::format(
                    "Trace '{}' has {} sentence(s) and the analysis needs at least {}.", a->trace, n, need));
            args->model = a->target;
            run = a->out.empty() ? std::filesystem::path(std::filesystem::path(a->trace).stem().string() + ".attn.h5")
                                 : std::filesystem::path(a->out);
        }
        if (a->top < 1) throw core::ArgumentError("--top must be at least 1.");
        if (a->suppression.onlyFirst < 0) throw core::ArgumentError("--only-first must be 0 or more.");
        auto model = args->load();
        if (!text.empty()) {
            ids = model->tokenizer().encode(text, true).ids;
            core::checkRunHolds(run, ids);
        }
        core::Progress progress;
        core::AnchorsReport report;
        runWithProgressBar(progress, [&] {
            if (!ids.empty() && !std::filesystem::exists(run)) {
                core::CaptureOptions capture;
                capture.promptIds = ids;
                capture.out = run;
                core::captureRun(*model, capture, &progress);
            }
            report = core::runAnchors(*model, run, a->suppression, &progress);
        });
        if (a->json) {
            fmt::print("{}\n", core::anchorsJson(report, run));
            return;
        }
        fmt::print("{}", core::anchorsTable(report, a->top));
        fmt::print("wrote /analysis/anchors and /analysis/anchors_suppression to {}\n", run.string());
    });
}

} // namespace attnscope::app

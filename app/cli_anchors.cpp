// `attnscope-cli anchors MODEL --trace FILE` and `attnscope-cli anchors RUN`: Thought Anchors' white-box analysis and
// attention-suppression matrix of a reasoning trace, written into its run file, with the top sentences printed; with
// --rollouts N, also the black-box counterfactual resampling importance of every sentence.
#include "cli_common.hpp"

#include "analysis/sentence_attention.hpp"
#include "analysis/sentence_spans.hpp"
#include "capture/capture_job.hpp"
#include "errors.hpp"
#include "intervene/experiment_run.hpp"
#include "jobs/anchors_job.hpp"
#include "jobs/progress.hpp"
#include "jobs/resampling_job.hpp"
#include "model/tokenizer.hpp"
#include "progress_bar.hpp"
#include "runtime/transformer.hpp"
#include "store/run_reader.hpp"

#include <fmt/core.h>

#include <cmath>

namespace attnscope::app {
namespace {

struct AnchorsArgs {
    std::string target, trace, out, model, question;
    int64_t top = 5;
    bool json = false;
    core::SuppressionOptions suppression;
    core::ResamplingOptions resampling;
};

bool isRunFile(const std::string& path) {
    return std::filesystem::path(path).extension() == ".h5";
}

void addResamplingOptions(CLI::App& cmd, core::ResamplingOptions& o) {
    cmd.add_option("--rollouts", o.rollouts,
                   "black-box importance: rollouts per sentence, each continuing the trace without that sentence "
                   "(0: skip; the paper uses 100)")
        ->capture_default_str();
    cmd.add_option("--temperature", o.temperature, "sampling temperature of the rollouts (above 0)")
        ->capture_default_str();
    cmd.add_option("--top-p", o.topP, "nucleus mass of the rollouts, in (0, 1]")->capture_default_str();
    cmd.add_option("--max-new-tokens", o.maxNewTokens, "tokens each rollout may generate at most")
        ->capture_default_str();
    cmd.add_option("--answer-regex", o.answerRegex,
                   "PCRE2 pattern of a rollout's final answer: its group named 'answer', else its first group, else "
                   "the whole first match (default: the content of the first \\boxed{})")
        ->capture_default_str();
    cmd.add_option("--answer", o.expectedAnswer,
                   "the correct answer (default: the pattern's match in the trace's answer, or in a plain trace "
                   "itself); answers are compared after normalisation (docs/methods.md 8.4)");
    cmd.add_option("--similarity", o.similarityThreshold,
                   "cosine below which a resampled first sentence means something different (hidden-state "
                   "embeddings of the model itself)")
        ->capture_default_str();
    cmd.add_option("--force-answer", o.forceAnswer,
                   "also as many forced-answer rollouts per sentence, from the prefix followed by this text (the "
                   "paper's: \"\\n</think>\\n\\nTherefore, the final answers is \\boxed{\"); the answer is read "
                   "from this text plus the rollout");
    cmd.add_option("--seed", o.seed, "seed of the rollouts (each rollout's own seed derives from it)")
        ->capture_default_str();
}

// Checked before any model is loaded or captured, so that bad settings leave nothing behind.
void checkResampling(const core::ResamplingOptions& o) {
    if (o.rollouts < 0) throw core::ArgumentError("--rollouts must be 0 or more.");
    if (o.rollouts == 0) return;
    if (!(o.temperature > 0.0) || !std::isfinite(o.temperature))
        throw core::ArgumentError("--temperature must be a finite number above 0 (rollouts are sampled).");
    if (!(o.topP > 0.0 && o.topP <= 1.0)) throw core::ArgumentError("--top-p must be in (0, 1].");
    if (o.maxNewTokens < 1) throw core::ArgumentError("--max-new-tokens must be at least 1.");
    if (!(o.similarityThreshold >= -1.0 && o.similarityThreshold <= 1.0))
        throw core::ArgumentError("--similarity is a cosine and must be in [-1, 1].");
    core::AnswerExtractor check(o.answerRegex);
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
    cmd->add_option("--question", a->question,
                    "with a plain-text trace: a file holding the question the reasoning answers (it becomes the "
                    "prompt before <think>)");
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
    addResamplingOptions(*cmd, a->resampling);
    cmd->add_flag("--json", a->json,
                  "print the results (sentences, receiver heads, broadcast, suppression matrix and effects, and with "
                  "--rollouts the resampling importance) as JSON");
    cmd->add_option("--device", args->device, "cpu, cuda or cuda:N")->capture_default_str();
    cmd->add_option("--dtype", args->dtype, "compute dtype: f32, bf16 or f16 (softmax is always float32)")
        ->capture_default_str();
    cmd->add_option("--threads", args->threads, "CPU threads (0: every CPU this process may use)")->capture_default_str();
    cmd->callback([args, a] {
        std::filesystem::path run;
        std::vector<int32_t> ids;
        std::string text;
        if (isRunFile(a->target)) {
            if (!a->trace.empty()) throw core::ArgumentError("Give either MODEL --trace FILE or a RUN, not both.");
            if (!a->out.empty()) throw core::ArgumentError("--out goes with --trace; a RUN is written in place.");
            if (!a->question.empty()) throw core::ArgumentError("--question goes with --trace; a RUN has its text.");
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
            if (!a->question.empty()) {
                if (text.find("<think>") != std::string::npos)
                    throw core::ArgumentError("Trace '" + a->trace +
                                              "' already has its prompt (JSON or <think>); leave out --question.");
                text = readTextFile(a->question, "question") + "<think>\n" + text + "\n</think>\n";
            }
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
        checkResampling(a->resampling);
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
            if (a->resampling.rollouts > 0)
                report.resampling = core::resampleRun(*model, run, a->resampling, &progress);
        });
        if (a->json) {
            fmt::print("{}\n", core::anchorsJson(report, run));
            return;
        }
        fmt::print("{}", core::anchorsTable(report, a->top));
        fmt::print("wrote /analysis/anchors, /analysis/anchors_suppression{} to {}\n",
                   report.resampling ? " and /analysis/anchors_resampling" : "", run.string());
    });
}

} // namespace attnscope::app

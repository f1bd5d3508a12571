// `attnscope-cli retrieval MODEL`: Wu et al.'s retrieval heads by needle-in-a-haystack, with the streaming vs
// retrieval classification per head and per KV head written as JSON and as a DuoAttention-style TSV.
#include "cli_common.hpp"
#include "cli_haystack.hpp"

#include "analysis/experiments/retrieval_experiment.hpp"
#include "analysis/head_classification.hpp"
#include "analysis/needle_haystack.hpp"
#include "analysis/retrieval_report.hpp"
#include "errors.hpp"
#include "jobs/progress.hpp"
#include "progress_bar.hpp"
#include "runtime/transformer.hpp"

#include <fmt/core.h>


namespace attnscope::app {
namespace {

struct RetrievalArgs {
    core::RetrievalParams params;
    HaystackArgs inputs;
    std::string out = "retrieval";
    bool json = false;
};

} // namespace

void addRetrievalCommand(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "retrieval", "Find retrieval heads by needle-in-a-haystack (Wu et al.): per-head retrieval score, per-test "
                     "success table, heads above the threshold, streaming vs retrieval heads per head and KV head");
    auto args = std::make_shared<ModelArgs>();
    auto a = std::make_shared<RetrievalArgs>();
    args->addTo(*cmd);
    a->inputs.addTo(*cmd, a->params);
    cmd->add_option("--buffer", a->params.buffer,
                    "tokens left after the context for question and answer (default: min(200, max positions / 8))");
    cmd->add_option("--template", a->params.questionTemplate,
                    "text after the context; {question} becomes the needle's question (Wu et al.: \"Based on the "
                    "content of the book, Question: {question}\\nAnswer:\")")
        ->capture_default_str();
    cmd->add_option("--stop", a->params.stopStrings,
                    "a generated token holding this text ends the answer; repeatable (default: newline, or \".\" for "
                    "a vocabulary without a newline)");
    cmd->add_option("--out", a->out, "write PREFIX.json (everything) and PREFIX.tsv (layers x KV heads, 1 = retrieval)")
        ->capture_default_str();
    cmd->add_flag("--json", a->json, "print the JSON instead of a summary");
    cmd->callback([args, a] {
        // Inputs are read before the model loads, so a bad file fails fast.
        const std::vector<core::NeedleCase> needles = a->inputs.readNeedleCases();
        const std::string haystack = a->inputs.readHaystack();
        auto model = args->load();
        core::Progress progress;
        core::RetrievalResult r;
        runWithProgressBar(progress,
                           [&] { r = core::runRetrievalExperiment(*model, haystack, needles, a->params, &progress); });
        r.model = args->model;
        r.haystack = a->inputs.haystackName();
        r.needlesFile = a->inputs.needlesName();
        const core::HeadClassification c = core::classifyRetrieval(r);
        const std::string json = core::retrievalJson(r, c);
        core::writeTextFile(a->out + ".json", json);
        core::writeTextFile(a->out + ".tsv", core::duoAttentionTsv(c));
        if (a->json) {
            fmt::print("{}", json);
            return;
        }
        fmt::print("{}", core::retrievalSummary(r, c));
        fmt::print("wrote {}.json and {}.tsv\n", a->out, a->out);
    });
}

} // namespace attnscope::app

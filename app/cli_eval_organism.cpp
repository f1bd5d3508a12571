// `attnscope-cli eval-organism MODEL`: measures the organism's known answers on held-out stories.
#include "cli_common.hpp"

#include "jobs/progress.hpp"
#include "organism/organism_eval.hpp"
#include "progress_bar.hpp"
#include "runtime/transformer.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace attnscope::app {
namespace {

nlohmann::json headJson(const core::OrganismEval::Best& b) {
    return {{"layer", b.layer}, {"head", b.head}, {"value", b.value}};
}

nlohmann::json perHeadJson(const core::OrganismEval& e, const std::vector<double>& v) {
    nlohmann::json rows = nlohmann::json::array();
    for (int64_t l = 0; l < e.layers; ++l)
        rows.push_back(std::vector<double>(v.begin() + l * e.heads, v.begin() + (l + 1) * e.heads));
    return rows;
}

} // namespace

void addEvalOrganismCommand(CLI::App& app) {
    auto* cmd = app.add_subcommand("eval-organism", "Measure a model organism's known answers on held-out stories: "
                                                    "long-range answers, retrieval, induction and sink heads");
    auto args = std::make_shared<ModelArgs>();
    auto o = std::make_shared<core::OrganismEvalOptions>();
    auto json = std::make_shared<bool>(false);
    args->addTo(*cmd);
    cmd->add_option("--seed", o->seed, "seed of the held-out stories")->capture_default_str();
    cmd->add_option("--questions", o->questions, "long-range questions to ask")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    cmd->add_option("--min-distance", o->minDistance, "tokens from the fact's answer to the question's answer")
        ->capture_default_str();
    cmd->add_option("--repeats", o->repeats, "repeated random spans to measure")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    cmd->add_option("--sink-window", o->sinkWindow,
                    "tokens at the start of each story over which <bos>'s alpha is measured (methods.md 1.2's T)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    addStoryOptions(*cmd, o->story);
    cmd->add_flag("--json", *json, "print JSON (all per-head scores) instead of a summary");
    cmd->callback([args, o, json] {
        auto model = args->load();
        core::Progress progress;
        core::OrganismEval e;
        runWithProgressBar(progress, [&] { e = core::evaluateOrganism(*model, *o, &progress); });
        const auto retrieval = e.best(e.retrievalTop1), induction = e.best(e.inductionScore),
                   sink = e.best(e.bosAlpha, 1);
        nlohmann::json byKind = nlohmann::json::object();
        for (size_t k = 0; k < core::kQuestionKinds; ++k)
            byKind[core::questionKindName(core::QuestionKind(k))] = {
                {"questions", e.questionsByKind[k]},
                {"answered", e.answeredByKind[k]},
                {"retrieval_head", headJson(e.best(e.retrievalTop1ByKind[k]))}};
        if (*json) {
            nlohmann::json j = {
                {"model", args->model},
                {"stories", e.stories},
                {"questions", e.questions},
                {"min_distance", o->minDistance},
                {"answer_accuracy", e.answerAccuracy},
                {"answers_by_kind", byKind},
                {"retrieval_head", headJson(retrieval)},
                {"retrieval_top1", perHeadJson(e, e.retrievalTop1)},
                {"spans", e.spans},
                {"first_copy_loss", e.firstCopyLoss},
                {"second_copy_loss", e.secondCopyLoss},
                {"copy_loss_ratio", e.copyLossRatio},
                {"induction_head", headJson(induction)},
                {"induction_score", perHeadJson(e, e.inductionScore)},
                {"sink_head", headJson(sink)},
                {"bos_alpha", perHeadJson(e, e.bosAlpha)},
            };
            fmt::print("{}\n", j.dump(2));
            return;
        }
        fmt::print("{} held-out stories (seed {})\n", e.stories, o->seed);
        fmt::print("answers {} tokens or more back: {}/{} right ({:.1f}%)\n", o->minDistance, e.answered, e.questions,
                   100 * e.answerAccuracy);
        std::string kinds;
        for (const auto& [kind, n] : byKind.items())
            kinds += fmt::format(
                "{}{} {}/{} (L{}H{} {:.0f}%)", kinds.empty() ? "" : ", ", kind, n["answered"].get<int64_t>(),
                n["questions"].get<int64_t>(), n["retrieval_head"]["layer"].get<int64_t>(),
                n["retrieval_head"]["head"].get<int64_t>(), 100 * n["retrieval_head"]["value"].get<double>());
        fmt::print("  by question (and its best retrieval head): {}\n", kinds);
        fmt::print("retrieval head L{}H{}: top-1 on the fact's answer for {:.1f}% of those questions\n",
                   retrieval.layer, retrieval.head, 100 * retrieval.value);
        fmt::print("repeated spans ({}): loss {:.3f} on the first copy, {:.3f} on the second ({:.1f}%)\n", e.spans,
                   e.firstCopyLoss, e.secondCopyLoss, 100 * e.copyLossRatio);
        fmt::print("induction head L{}H{}: score {:.3f}\n", induction.layer, induction.head, induction.value);
        fmt::print("sink head L{}H{} (layers above 0): <bos> alpha {:.3f}\n", sink.layer, sink.head, sink.value);
    });
}

} // namespace attnscope::app

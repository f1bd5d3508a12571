// `attnscope-cli mask-retrieval MODEL`: Wu et al.'s retrieval-head masking (methods.md §3.2): the top-K retrieval
// heads masked together vs K random heads, needle-in-a-haystack success and (for the organism) question accuracy.
#include "cli_common.hpp"
#include "cli_haystack.hpp"

#include "analysis/experiments/retrieval_masking.hpp"
#include "analysis/head_classification.hpp"
#include "analysis/needle_haystack.hpp"
#include "errors.hpp"
#include "jobs/progress.hpp"
#include "organism/organism_vocab.hpp"
#include "progress_bar.hpp"
#include "runtime/transformer.hpp"

#include <fmt/core.h>

namespace attnscope::app {
namespace {

struct MaskArgs {
    core::RetrievalMaskingParams params;
    core::OrganismEvalOptions organism;
    std::string organismMode = "auto";
    std::string method = "uniform";
    HaystackArgs inputs;
    std::string out = "mask_retrieval.json", exclude;
    bool noHaystack = false, json = false;
};

} // namespace

void addMaskRetrievalCommand(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "mask-retrieval",
        "Retrieval-head masking (Wu et al. §4.1): mask the top-K heads by retrieval score vs K random "
        "heads over several seeds; needle-in-a-haystack success and the organism's question accuracy");
    auto args = std::make_shared<ModelArgs>();
    auto a = std::make_shared<MaskArgs>();
    args->addTo(*cmd);
    cmd->add_option("-k,--k", a->params.k, "heads masked together: the top K by retrieval score, and K random ones")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    cmd->add_option("--seeds", a->params.randomSeeds, "random draws of K heads (outside every head that scored)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    cmd->add_option("--seed", a->params.seed, "seed of the first draw; draw s uses seed + s")->capture_default_str();
    cmd->add_option("--exclude", a->exclude,
                    "heads never drawn at random besides the scoring ones (L.H, L.kvH or L.*, comma-separated), e.g. "
                    "the previous-token head an induction circuit reads");
    cmd->add_option("--method", a->method,
                    "how a head is masked: uniform (q = 0, the reference's), zero, scale (mean/resample need a "
                    "reference and are not offered)")
        ->check(CLI::IsMember({"uniform", "zero", "scale"}))
        ->capture_default_str();
    a->inputs.addTo(*cmd, a->params.retrieval);
    cmd->add_flag("--no-haystack", a->noHaystack,
                  "rank heads with one unmasked haystack run but measure only the organism under the masks");
    cmd->add_option("--organism", a->organismMode,
                    "measure the organism's far-question accuracy under each mask: auto (when the model has the "
                    "organism's vocabulary), on or off")
        ->check(CLI::IsMember({"auto", "on", "off"}))
        ->capture_default_str();
    cmd->add_option("--questions", a->organism.questions, "organism: far questions to ask")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    cmd->add_option("--min-distance", a->organism.minDistance, "organism: tokens from the fact's answer to the answer")
        ->capture_default_str();
    cmd->add_option("--eval-seed", a->organism.seed, "organism: seed of the held-out stories")->capture_default_str();
    addStoryOptions(*cmd, a->organism.story);
    cmd->add_option("--out", a->out, "JSON file with every condition, the ranking and the random spread")
        ->capture_default_str();
    cmd->add_flag("--json", a->json, "print the JSON instead of the table");
    cmd->callback([args, a] {
        const std::vector<core::NeedleCase> needles = a->inputs.readNeedleCases();
        const std::string haystack = a->inputs.readHaystack();
        auto model = args->load();
        core::RetrievalMaskingParams p = a->params;
        p.method = core::parseAblationMethod(a->method);
        p.keepOutOfRandom = core::parseHeadList(a->exclude);
        p.haystack = !a->noHaystack;
        const bool organism =
            a->organismMode == "on" ||
            (a->organismMode == "auto" && core::organismVocab().isOrganismSize(model->config().vocabSize));
        if (organism) p.organism = a->organism;
        core::Progress progress;
        core::RetrievalMaskingResult r;
        runWithProgressBar(progress, [&] { r = core::runRetrievalMasking(*model, haystack, needles, p, &progress); });
        r.model = args->model;
        r.haystack = a->inputs.haystackName();
        r.needlesFile = a->inputs.needlesName();
        const std::string json = core::retrievalMaskingJson(r);
        core::writeTextFile(a->out, json);
        if (a->json) {
            fmt::print("{}", json);
            return;
        }
        fmt::print("{}", core::retrievalMaskingTable(r));
        fmt::print("wrote {}\n", a->out);
    });
}

} // namespace attnscope::app

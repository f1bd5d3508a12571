// `attnscope-cli ablate MODEL --text FILE`: ablate a set of heads, or sweep every head alone, and measure the change
// in loss, next-token distributions and a target's logit; results go to the text's run file and a table.
#include "cli_common.hpp"

#include "errors.hpp"
#include "intervene/ablation_experiment.hpp"
#include "intervene/experiment_run.hpp"
#include "jobs/progress.hpp"
#include "model/tokenizer.hpp"
#include "progress_bar.hpp"
#include "runtime/transformer.hpp"

#include <fmt/core.h>

#include <fstream>
#include <sstream>

namespace attnscope::app {
namespace {

struct AblateArgs {
    std::string text, heads, method = "zero", target, reference, out, rankBy = "kl";
    bool sweep = false;
    core::AblationParams params;
};

// "#ID" is a token id; anything else must be the text of exactly one token.
int32_t parseTarget(const core::Transformer& model, const std::string& target) {
    if (target.empty()) return -1;
    if (target[0] == '#') {
        try {
            return static_cast<int32_t>(std::stol(target.substr(1)));
        } catch (const std::exception&) {
            throw core::ArgumentError("Target '" + target + "' is not a token id of the form #123.");
        }
    }
    const core::Encoding e = model.tokenizer().encode(target, false);
    if (e.ids.size() != 1)
        throw core::ArgumentError(fmt::format("Target '{}' is {} tokens, not one; give one token's text or #ID.",
                                              target, e.ids.size()));
    return e.ids[0];
}

} // namespace

void addAblateCommand(CLI::App& app) {
    auto* cmd = app.add_subcommand("ablate", "Ablate attention heads (zero, mean, resample, uniform = q·0, scale = "
                                             "Ships' q·epsilon) on a text and measure delta loss, KL(base || "
                                             "ablated), Ships and a target's logit change; --sweep does every head");
    auto args = std::make_shared<ModelArgs>();
    auto a = std::make_shared<AblateArgs>();
    args->addTo(*cmd);
    cmd->add_option("--text", a->text, "UTF-8 text file to run (tokenised with BOS)")->required();
    auto* heads = cmd->add_option("--heads", a->heads, "heads ablated together: L.H, L.kvH (a KV head's group) or "
                                                       "L.* (a whole layer), comma-separated");
    auto* sweep = cmd->add_flag("--sweep", a->sweep, "ablate every head alone, one forward each");
    heads->excludes(sweep);
    cmd->add_option("--method", a->method, "zero | mean | resample | uniform | scale")->capture_default_str();
    cmd->add_option("--epsilon", a->params.epsilon, "q scale of --method scale (Ships: 1e-5)")->capture_default_str();
    cmd->add_option("--reference", a->reference,
                    "text file whose head outputs mean/resample use (mean default: the text itself)");
    cmd->add_option("--target", a->target, "token whose last-position logit change is reported: its text or #ID "
                                           "(default: the unablated model's top prediction)");
    cmd->add_option("--top-k", a->params.topK, "with --sweep: ablate the top K heads together vs K random heads")
        ->capture_default_str()
        ->needs(sweep);
    cmd->add_option("--seeds", a->params.randomSeeds, "random head sets for --top-k")->capture_default_str();
    cmd->add_option("--seed", a->params.seed, "seed of the first random head set")->capture_default_str();
    cmd->add_option("--rank-by", a->rankBy, "metric ranking the sweep: kl | delta_loss | ships | logit_diff")
        ->capture_default_str();
    cmd->add_option("--out", a->out, "run file of the text: results go to /analysis/ablation (captured first when "
                                     "missing; default: <text name>.attn.h5 here)");
    cmd->callback([args, a] {
        // Inputs are checked before the model loads, so a typo fails fast.
        core::AblationParams p = a->params;
        p.method = core::parseAblationMethod(a->method);
        p.heads = core::parseHeadList(a->heads);
        p.sweep = a->sweep;
        p.rankBy = a->rankBy;
        core::metricValue(core::AblationMetrics{}, p.rankBy);
        if (!p.sweep && p.heads.empty()) throw core::ArgumentError("Give --heads L.H,... or --sweep.");
        if (p.method == core::AblationMethod::Resample && a->reference.empty())
            throw core::ArgumentError("A resample ablation needs a reference text different from the input "
                                      "(--reference FILE).");
        const std::string text = readTextFile(a->text, "text");
        const std::string reference = a->reference.empty() ? std::string() : readTextFile(a->reference, "reference");
        const std::filesystem::path out =
            a->out.empty() ? std::filesystem::path(std::filesystem::path(a->text).stem().string() + ".attn.h5")
                           : std::filesystem::path(a->out);
        auto model = args->load();
        const std::vector<int32_t> ids = model->tokenizer().encode(text, true).ids;
        if (!reference.empty()) p.referenceIds = model->tokenizer().encode(reference, true).ids;
        p.target = parseTarget(*model, a->target);
        if (!p.sweep) { // heads outside the model fail before the progress bar draws
            core::HeadAblation heads;
            heads.heads = p.heads;
            core::validateEditSet(core::EditSet{{heads}}, model->config());
        }
        core::checkRunHolds(out, ids);
        core::Progress progress;
        core::AblationReport report;
        runWithProgressBar(progress, [&] {
            report = core::runAblation(*model, ids, p, &progress);
            const core::AnalysisResult result = core::ablationAnalysis(report);
            core::storeInRun(*model, ids, out, std::span<const core::AnalysisResult>(&result, 1), {}, &progress);
        });
        fmt::print("{}", core::ablationTable(report));
        fmt::print("wrote /analysis/ablation to {}\n", out.string());
    });
}

} // namespace attnscope::app

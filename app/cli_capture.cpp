// `attnscope-cli capture MODEL --prompt TEXT | --probe KIND`: every head's attention of a prompt (and its
// continuation), or of a built-in repeated-random-token probe, to a run file.
#include "cli_common.hpp"

#include "capture/capture_job.hpp"
#include "errors.hpp"
#include "intervene/attention_edit.hpp"
#include "jobs/progress.hpp"
#include "progress_bar.hpp"
#include "runtime/transformer.hpp"

#include <fmt/core.h>

#include <fstream>
#include <sstream>

namespace attnscope::app {

namespace {

void printResult(const core::CaptureResult& r) {
    std::string levels;
    for (int l : r.pyramidLevels)
        levels += (levels.empty() ? "" : ",") + std::to_string(l);
    fmt::print("wrote {}: {} tokens ({} generated), full maps {}, pyramid levels [{}]{}\n", r.file.string(), r.tokens,
               r.generated, r.fullProbs ? "kept" : "not kept", levels,
               r.probe.present() ? "; " + core::describeProbe(r.probe) : std::string());
}

void captureProbeRuns(const ModelArgs& args, const core::ProbeRequest& request, const core::CaptureOptions& base,
                      const std::string& full, const std::string& out) {
    core::CaptureOptions options = base;
    options.full = core::parseFullMaps(full);
    options.out = out.empty() ? std::filesystem::path(std::filesystem::path(args.model).filename().stem().string() +
                                                      "-" + core::probeKindName(request.kind) + ".attn.h5")
                              : std::filesystem::path(out);
    auto model = args.load();
    core::Progress progress;
    std::vector<core::CaptureResult> results;
    try {
        runWithProgressBar(progress, [&] { results = core::captureProbe(*model, request, options, &progress); });
    } catch (const core::Cancelled&) {
        throw core::Error("Capture cancelled; the probe's runs finished before it were kept.");
    }
    for (const core::CaptureResult& r : results)
        printResult(r);
}

} // namespace

void addCaptureCommand(CLI::App& app) {
    auto* cmd = app.add_subcommand("capture", "Capture every head's attention of a prompt (and generated tokens), or "
                                              "of a built-in induction/echo probe (--probe), into a run file "
                                              "(.attn.h5)");
    auto args = std::make_shared<ModelArgs>();
    auto o = std::make_shared<core::CaptureOptions>();
    auto promptFile = std::make_shared<std::string>();
    auto full = std::make_shared<std::string>("auto");
    auto out = std::make_shared<std::string>();
    auto probeKind = std::make_shared<std::string>();
    auto probe = std::make_shared<core::ProbeRequest>();
    auto editsFile = std::make_shared<std::string>();
    args->addTo(*cmd);
    auto* prompt = cmd->add_option("--prompt", o->prompt, "the prompt text");
    auto* file = cmd->add_option("--prompt-file", *promptFile, "read the prompt from this UTF-8 file");
    prompt->excludes(file);
    auto* generate =
        cmd->add_option("--generate", o->generate, "generate this many tokens first; their attention is captured too")
            ->capture_default_str()
            ->check(CLI::NonNegativeNumber);
    cmd->add_option("--temperature", o->sampling.temperature, "sampling temperature for --generate (0: greedy)")
        ->capture_default_str();
    cmd->add_option("--top-p", o->sampling.topP, "nucleus mass for --generate")->capture_default_str();
    cmd->add_option("--seed", o->sampling.seed, "random seed for --generate and for the ids of --probe")
        ->capture_default_str();
    cmd->add_option("--out", *out, "run file to write (default: <model name>.attn.h5 here)");
    cmd->add_option("--edits", *editsFile, "apply these attention edits (JSON, see docs/methods.md §7) while "
                                           "generating and capturing; they are stored in /analysis/edits");
    cmd->add_option("--full", *full, "keep full [L,H,T,T] maps: auto (while they fit 2 GiB), always, never")
        ->capture_default_str();
    auto* probeOption = cmd->add_option("--probe", *probeKind,
                                        "capture a built-in repeated-random-token probe instead of a prompt: razor "
                                        "(RazorAttention echo/induction), induction (TransformerLens, one run per "
                                        "sequence), prefix-matching (Anthropic, one run per sequence)");
    probeOption->excludes(prompt)->excludes(file)->excludes(generate);
    cmd->add_option("--probe-period", probe->period,
                    "ids per block (0: the reference's 2500, 50 or 25; razor's shrinks to fit the context)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber)
        ->needs(probeOption);
    cmd->add_option("--probe-repeats", probe->repeats, "copies of the block (0: the reference's 4, 2 or 4)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber)
        ->needs(probeOption);
    cmd->add_option("--probe-sequences", probe->batch, "sequences, one run each (0: the reference's 1, 10 or 10)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber)
        ->needs(probeOption);
    cmd->callback([=] {
        if (!editsFile->empty()) o->edits = core::readEditSet(*editsFile); // before the model loads
        if (!probeKind->empty()) {
            core::ProbeRequest request = *probe;
            request.kind = core::parseProbeKind(*probeKind); // before the model loads: a typo costs nothing
            request.seed = o->sampling.seed;
            captureProbeRuns(*args, request, *o, *full, *out);
            return;
        }
        core::CaptureOptions options = *o;
        options.full = core::parseFullMaps(*full);
        if (!promptFile->empty()) {
            std::ifstream in(*promptFile, std::ios::binary);
            if (!in) throw core::FileError("Cannot read the prompt file '" + *promptFile + "'.");
            std::stringstream ss;
            ss << in.rdbuf();
            options.prompt = ss.str();
        }
        const std::filesystem::path modelPath(args->model);
        options.out = out->empty() ? std::filesystem::path(modelPath.filename().stem().string() + ".attn.h5")
                                    : std::filesystem::path(*out);
        auto model = args->load();
        core::Progress progress;
        core::CaptureResult r;
        try {
            runWithProgressBar(progress, [&] { r = core::captureRun(*model, options, &progress); });
        } catch (const core::Cancelled&) {
            throw core::Error("Capture cancelled; nothing was written to '" + options.out.string() + "'.");
        }
        printResult(r);
    });
}

} // namespace attnscope::app

// `attnscope-cli capture MODEL --prompt TEXT`: every head's attention of a prompt (and its continuation) to a run file.
#include "cli_common.hpp"

#include "capture/capture_job.hpp"
#include "errors.hpp"
#include "jobs/progress.hpp"
#include "progress_bar.hpp"
#include "runtime/transformer.hpp"

#include <fmt/core.h>

#include <fstream>
#include <sstream>

namespace attnscope::app {

void addCaptureCommand(CLI::App& app) {
    auto* cmd = app.add_subcommand("capture", "Capture every head's attention of a prompt (and generated tokens) "
                                              "into a run file (.attn.h5)");
    auto args = std::make_shared<ModelArgs>();
    auto o = std::make_shared<core::CaptureOptions>();
    auto promptFile = std::make_shared<std::string>();
    auto full = std::make_shared<std::string>("auto");
    auto out = std::make_shared<std::string>();
    args->addTo(*cmd);
    auto* prompt = cmd->add_option("--prompt", o->prompt, "the prompt text");
    auto* file = cmd->add_option("--prompt-file", *promptFile, "read the prompt from this UTF-8 file");
    prompt->excludes(file);
    cmd->add_option("--generate", o->generate, "generate this many tokens first; their attention is captured too")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--temperature", o->sampling.temperature, "sampling temperature for --generate (0: greedy)")
        ->capture_default_str();
    cmd->add_option("--top-p", o->sampling.topP, "nucleus mass for --generate")->capture_default_str();
    cmd->add_option("--seed", o->sampling.seed, "random seed for --generate")->capture_default_str();
    cmd->add_option("--out", *out, "run file to write (default: <model name>.attn.h5 here)");
    cmd->add_option("--full", *full, "keep full [L,H,T,T] maps: auto (while they fit 2 GiB), always, never")
        ->capture_default_str();
    cmd->callback([=] {
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
        std::string levels;
        for (int l : r.pyramidLevels) levels += (levels.empty() ? "" : ",") + std::to_string(l);
        fmt::print("wrote {}: {} tokens ({} generated), full maps {}, pyramid levels [{}]\n", r.file.string(),
                   r.tokens, r.generated, r.fullProbs ? "kept" : "not kept", levels);
    });
}

} // namespace attnscope::app

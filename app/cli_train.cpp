// `attnscope-cli train-organism --out DIR`: trains the model organism on the story corpus into a Hugging Face folder.
#include "cli_common.hpp"

#include "errors.hpp"
#include "jobs/progress.hpp"
#include "organism/organism_trainer.hpp"
#include "progress_bar.hpp"
#include "runtime/runtime_options.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace attnscope::app {

void addTrainCommand(CLI::App& app) {
    auto* cmd = app.add_subcommand("train-organism", "Train the model organism (a small Llama on generated stories) "
                                                     "and write it as a Hugging Face folder");
    auto o = std::make_shared<core::TrainOptions>();
    auto out = std::make_shared<std::string>();
    cmd->add_option("--out", *out, "folder to write (replaced if it exists)")->required();
    cmd->add_option("--steps", o->steps, "optimiser steps")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--seed", o->seed, "seed of the weights and the corpus")->capture_default_str();
    cmd->add_option("--device", o->device, "cpu, cuda or cuda:N")->capture_default_str();
    cmd->add_option("--threads", o->threads, "CPU threads (0: every CPU this process may use)")->capture_default_str();
    cmd->add_option("--batch", o->batch, "rows of --seq-len tokens per step")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    cmd->add_option("--seq-len", o->seqLen, "tokens per row; also the saved model's context")->capture_default_str();
    cmd->add_option("--layers", o->layers, "transformer layers")->capture_default_str();
    cmd->add_option("--heads", o->heads, "attention heads")->capture_default_str();
    cmd->add_option("--kv-heads", o->kvHeads, "key/value heads (divides --heads)")->capture_default_str();
    cmd->add_option("--width", o->width, "model width (d_model)")->capture_default_str();
    cmd->add_option("--ff-width", o->ffWidth, "MLP hidden width")->capture_default_str();
    addStoryOptions(*cmd, o->story);
    cmd->add_option("--lr", o->lr, "peak AdamW learning rate (warmup, then cosine decay)")->capture_default_str();
    cmd->add_option("--weight-decay", o->weightDecay, "AdamW weight decay of the matrices")->capture_default_str();
    cmd->add_option("--init", o->initFrom, "organism folder to continue from (default: random weights)")
        ->check(CLI::ExistingDirectory);
    cmd->callback([o, out] {
        core::TrainOptions options = *o;
        options.device = core::parseDevice(options.device);
        options.outDir = *out;
        core::Progress progress;
        core::TrainResult r;
        try {
            runWithProgressBar(progress, [&] {
                r = core::trainOrganism(options, &progress, [&](const core::TrainStep& s) {
                    progress.setDetail(fmt::format("loss {:.3f}, {:.0f} tok/s", s.loss, s.tokensPerSecond));
                });
            });
        } catch (const core::Cancelled&) {
            throw core::Error("Training cancelled; nothing was written to '" + *out + "'.");
        }
        const size_t tail = std::min<size_t>(10, r.losses.size());
        double tailMean = 0;
        for (size_t k = r.losses.size() - tail; k < r.losses.size(); ++k)
            tailMean += r.losses[k] / double(tail);
        fmt::print("wrote {}: {} steps, final loss {:.4f} (mean of the last {}: {:.4f}), {} tokens in {:.1f}s, "
                   "{:.0f} tokens/s\n",
                   r.folder.string(), r.losses.size(), r.losses.back(), tail, tailMean, r.tokens, r.seconds,
                   r.tokensPerSecond);
    });
}

} // namespace attnscope::app

// `attnscope-cli generate MODEL --prompt TEXT`: streams the continuation; speed goes to stderr.
#include "cli_common.hpp"

#include "model/tokenizer.hpp"
#include "runtime/generator.hpp"
#include "runtime/transformer.hpp"

#include <fmt/core.h>

#include <chrono>
#include <cstdio>

namespace attnscope::app {

void addGenerateCommand(CLI::App& app) {
    auto* cmd = app.add_subcommand("generate", "Continue a prompt with the model (KV cache; greedy by default)");
    auto args = std::make_shared<ModelArgs>();
    auto prompt = std::make_shared<std::string>();
    auto options = std::make_shared<core::GenerateOptions>();
    args->addTo(*cmd);
    cmd->add_option("--prompt", *prompt, "the prompt text (empty: start from BOS)")->capture_default_str();
    cmd->add_option("--max-new", options->maxNewTokens, "tokens to generate at most")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--temperature", options->sampling.temperature, "0 is greedy")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--top-p", options->sampling.topP, "nucleus sampling mass in (0, 1]")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1.0));
    cmd->add_option("--seed", options->sampling.seed, "random seed for sampling")->capture_default_str();
    cmd->callback([args, prompt, options] {
        auto model = args->load();
        const core::Tokenizer& tok = model->tokenizer();
        core::Encoding enc = tok.encode(*prompt, true);
        if (enc.ids.empty() && tok.bosId() >= 0) enc.ids.push_back(static_cast<int32_t>(tok.bosId()));
        core::GenerateOptions o = *options;
        o.stopIds = core::defaultStopIds(*model);

        // Decoding the whole sequence each time keeps SentencePiece's leading-space rule and split UTF-8 right.
        std::vector<int32_t> ids = enc.ids;
        size_t printed = 0;
        auto flush = [&] {
            std::string text = tok.decode(ids);
            if (text.size() > printed) {
                std::fwrite(text.data() + printed, 1, text.size() - printed, stdout);
                std::fflush(stdout);
                printed = text.size();
            }
        };
        flush();
        const auto start = std::chrono::steady_clock::now();
        core::GenerateResult r = core::generate(*model, enc.ids, o, nullptr, [&](int32_t id) {
            ids.push_back(id);
            flush();
            return true;
        });
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::fputc('\n', stdout);
        const auto generated = static_cast<int64_t>(r.ids.size()) - r.promptLength;
        fmt::print(stderr, "{} tokens in {:.2f} s ({:.1f} tokens/s){}\n", generated, seconds,
                   seconds > 0 ? generated / seconds : 0.0, r.stopped ? ", stopped at end of text" : "");
    });
}

} // namespace attnscope::app

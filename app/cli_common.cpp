#include "cli_common.hpp"

#include "errors.hpp"
#include "organism/story_corpus.hpp"
#include "runtime/transformer.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <sstream>

namespace attnscope::app {

void ModelArgs::addTo(CLI::App& cmd, bool withRuntime) {
    cmd.add_option("MODEL", model, "Hugging Face model folder or .gguf file")->required();
    if (!withRuntime) return;
    cmd.add_option("--device", device, "cpu, cuda or cuda:N")->capture_default_str();
    cmd.add_option("--dtype", dtype, "compute dtype: f32, bf16 or f16 (softmax is always float32)")
        ->capture_default_str();
    cmd.add_option("--threads", threads, "CPU threads (0: every CPU this process may use)")->capture_default_str();
}

core::RuntimeOptions ModelArgs::runtimeOptions() const {
    core::RuntimeOptions o;
    o.device = core::parseDevice(device);
    o.dtype = core::parseComputeDtype(dtype);
    o.threads = threads;
    return o;
}

std::unique_ptr<core::Transformer> ModelArgs::load(bool computeSha256) const {
    return core::Transformer::load(model, runtimeOptions(), computeSha256);
}

void addStoryOptions(CLI::App& cmd, core::StoryConfig& story) {
    const auto count = [&](const char* name, int64_t& v, const char* help) {
        cmd.add_option(name, v, help)->capture_default_str()->check(CLI::NonNegativeNumber)->group("Story mix");
    };
    count("--min-facts", story.minFacts, "fewest facts (and questions) per story");
    count("--max-facts", story.maxFacts, "most facts (and questions) per story");
    count("--min-filler", story.minFiller, "fewest filler sentences between the facts and the questions");
    count("--max-filler", story.maxFiller, "most filler sentences between the facts and the questions");
    count("--min-repeat-gap", story.minRepeatGap, "fewest filler sentences between the two copies of a repeated span");
    count("--max-repeat-gap", story.maxRepeatGap,
          "most filler sentences between the two copies of a repeated span (0: adjacent copies)");
    cmd.add_option("--answer-form", story.answerForm, "short (\"In the blue box .\") or restate (the fact again)")
        ->transform(
            CLI::CheckedTransformer(std::map<std::string, core::AnswerForm>{{"short", core::AnswerForm::Short},
                                                                            {"restate", core::AnswerForm::Restate}},
                                    CLI::ignore_case))
        ->group("Story mix");
    const auto share = [&](const char* name, double& v, const char* help) {
        cmd.add_option(name, v, help)->capture_default_str()->check(CLI::Range(0.0, 1.0))->group("Story mix");
    };
    share("--repeat-share", story.repeatShare, "share of stories holding a repeated random span");
    share("--unanswerable-share", story.unanswerableShare,
          "share of stories with a question no fact answers (\"Nobody knows .\")");
    share("--repeat-gap-share", story.repeatGapShare,
          "with a repeat gap, the share of spans that get one (the rest keep adjacent copies)");
    share("--echo-share", story.echoShare,
          "share of filler sentences where a word comes again after an echo word (\"The dog too dog ran .\")");
    share("--mention-share", story.mentionShare,
          "share of filler sentences that mention a hidden object's colour and container again (\"The cat slept in "
          "the blue box .\")");
}

std::string readTextFile(const std::string& path, const std::string& what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw core::FileError(fmt::format("Cannot read the {} file '{}'.", what, path));
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string jsonQuote(const std::string& s) {
    return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace attnscope::app

// `attnscope-cli tokenize MODEL TEXT`: ids, pieces and byte spans of a text.
#include "cli_common.hpp"

#include "errors.hpp"
#include "model/model_files.hpp"
#include "model/tokenizer.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace attnscope::app {

void addTokenizeCommand(CLI::App& app) {
    auto* cmd = app.add_subcommand("tokenize", "Split a text into tokens: id, piece and byte span of each");
    auto args = std::make_shared<ModelArgs>();
    auto text = std::make_shared<std::string>();
    auto json = std::make_shared<bool>(false);
    auto noSpecial = std::make_shared<bool>(false);
    args->addTo(*cmd, /*withRuntime=*/false);
    cmd->add_option("TEXT", *text, "the text to tokenize")->required();
    cmd->add_flag("--json", *json, "print JSON instead of a table");
    cmd->add_flag("--no-special", *noSpecial, "do not add BOS");
    cmd->callback([args, text, json, noSpecial] {
        core::ModelFiles files = core::loadModelFiles(args->model);
        if (!files.tokenizer) throw core::Error("'" + args->model + "' has no tokenizer.");
        core::Encoding enc = files.tokenizer->encode(*text, !*noSpecial);
        if (*json) {
            nlohmann::json j;
            j["ids"] = enc.ids;
            j["pieces"] = nlohmann::json::array();
            j["spans"] = nlohmann::json::array();
            for (size_t i = 0; i < enc.ids.size(); ++i) {
                j["pieces"].push_back(enc.pieces[i]);
                j["spans"].push_back({enc.spans[i].begin, enc.spans[i].end});
            }
            fmt::print("{}\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
            return;
        }
        fmt::print("{:>5}  {:>7}  {:<11}  {}\n", "index", "id", "span", "piece");
        for (size_t i = 0; i < enc.ids.size(); ++i)
            fmt::print("{:>5}  {:>7}  {:<11}  {}\n", i, enc.ids[i],
                       fmt::format("[{},{})", enc.spans[i].begin, enc.spans[i].end), jsonQuote(enc.pieces[i]));
    });
}

} // namespace attnscope::app

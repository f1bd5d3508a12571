// `attnscope-cli import FILE... --tokens F --out RUN`: attention dumps from Python become a run file.
// `attnscope-cli import-scores RUN FILE --kind K`: published head scores become /analysis/<name> of a run.
#include "cli_common.hpp"

#include "attention_import.hpp"
#include "head_score_import.hpp"
#include "store/analysis_writer.hpp"
#include "store/run_reader.hpp"

#include <fmt/core.h>
#include <fmt/ranges.h>

namespace attnscope::app {

namespace {

struct ImportArgs {
    std::vector<std::string> inputs;
    std::string tokens, out, architecture = "imported", source;
    int64_t batch = 0, kvHeads = 0;
};

struct ImportScoresArgs {
    std::string run, file, kind, name;
};

} // namespace

void addImportCommand(CLI::App& app) {
    auto* cmd = app.add_subcommand("import", "Turn attention dumps from Python (.npy, .npz, safetensors, HDF5 of "
                                             "Hugging Face output_attentions) and their tokens into a run file");
    auto a = std::make_shared<ImportArgs>();
    cmd->add_option("FILE", a->inputs, "attention files, read in this order (one per layer, or one stacked)")
        ->required();
    cmd->add_option("--tokens", a->tokens, "token strings: a JSON list (or {\"tokens\", \"ids\"}) or one per line")
        ->required();
    cmd->add_option("--out", a->out, "run file to write (.attn.h5)")->required();
    cmd->add_option("--batch", a->batch, "batch element of [batch, heads, T, T] arrays")->capture_default_str();
    cmd->add_option("--kv-heads", a->kvHeads, "KV heads of the model (GQA); 0: one per head")->capture_default_str();
    cmd->add_option("--architecture", a->architecture, "stored as /model/architecture")->capture_default_str();
    cmd->add_option("--source", a->source, "stored as /model/source (default: the input paths)");
    cmd->callback([a] {
        importers::AttentionImportRequest r;
        r.inputs.assign(a->inputs.begin(), a->inputs.end());
        r.tokens = a->tokens, r.out = a->out, r.batch = a->batch, r.kvHeads = a->kvHeads;
        r.architecture = a->architecture, r.source = a->source;
        const importers::AttentionImportResult result = importers::importAttention(r);
        fmt::print("wrote {}: {} layers x {} heads, {} tokens, full maps, pyramid levels [{}]\n", a->out,
                   result.layers, result.heads, result.tokens, fmt::join(result.pyramidLevels, ","));
        for (const std::string& s : result.skipped)
            fmt::print("skipped {} (not a T x T attention array)\n", s);
    });
}

void addImportScoresCommand(CLI::App& app) {
    auto* cmd = app.add_subcommand("import-scores", "Store published head scores (Retrieval_Head JSON, DuoAttention "
                                                    "TSV) in a run as /analysis/<name>, to overlay on its heads");
    auto a = std::make_shared<ImportScoresArgs>();
    cmd->add_option("RUN", a->run, "run file (.attn.h5)")->required();
    cmd->add_option("FILE", a->file, "the score file")->required();
    cmd->add_option("--kind", a->kind, "retrieval-json or duo-tsv")->required();
    cmd->add_option("--name", a->name,
                    "analysis name (default retrieval_head_published or duo_attention_published)");
    cmd->callback([a] {
        const importers::HeadScoreKind kind = importers::parseHeadScoreKind(a->kind);
        importers::RunHeadShape shape;
        {
            core::RunReader reader(a->run);
            shape = {reader.model().nLayers, reader.model().nHeads, reader.model().nKvHeads};
        } // closed before the writer replaces the file
        const std::string name = a->name.empty() ? importers::defaultHeadScoreName(kind) : a->name;
        const core::AnalysisResult result = importers::readHeadScores(a->file, kind, shape, name);
        core::writeAnalyses(a->run, std::span(&result, 1));
        fmt::print("wrote /analysis/{} to {} ({})\n", name, a->run, a->file);
    });
}

} // namespace attnscope::app

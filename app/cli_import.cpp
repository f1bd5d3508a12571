// `attnscope-cli import FILE... --tokens F --out RUN`: attention dumps from Python become a run file.
// `attnscope-cli import-scores RUN FILE --kind K`: published head scores become /analysis/<name> of a run.
#include "cli_common.hpp"

#include "attention_import.hpp"
#include "capture/capture_job.hpp"
#include "errors.hpp"
#include "head_score_import.hpp"
#include "importer_thought_anchors.hpp"
#include "jobs/analyze_job.hpp"
#include "jobs/progress.hpp"
#include "model/tokenizer.hpp"
#include "progress_bar.hpp"
#include "runtime/transformer.hpp"
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
    bool newRun = false;
};

// --new-run: the published trace captured with a real model and its white-box anchors analysed, so that the published
// per-sentence results sit beside our own on real attention.
void captureTrace(const std::string& run, const std::string& text, const ModelArgs& model, const std::string& origin) {
    if (model.model.empty())
        throw core::ArgumentError("--new-run needs --model MODEL: the published trace is captured with it.");
    auto transformer = model.load();
    const std::vector<int32_t> ids = transformer->tokenizer().encode(text, true).ids;
    core::Progress progress;
    runWithProgressBar(progress, [&] {
        core::CaptureOptions capture;
        capture.promptIds = ids;
        capture.out = run;
        core::captureRun(*transformer, capture, &progress);
        core::analyzeRun({run, {"anchors"}}, &progress);
    });
    fmt::print("captured the published trace of {} with {}: {} tokens\n", origin, model.model, ids.size());
}

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
    auto* cmd = app.add_subcommand("import-scores", "Store published scores (Retrieval_Head JSON, DuoAttention TSV, "
                                                    "Thought Anchors problem folders) in a run as /analysis/<name>, "
                                                    "to show beside its own results");
    auto a = std::make_shared<ImportScoresArgs>();
    cmd->add_option("RUN", a->run, "run file (.attn.h5)")->required();
    cmd->add_option("FILE", a->file, "the score file (thought-anchors: a problem folder or its chunks_labeled.json)")
        ->required();
    cmd->add_option("--kind", a->kind, "retrieval-json, duo-tsv or thought-anchors")->required();
    cmd->add_option("--name", a->name,
                    "analysis name (default retrieval_head_published, duo_attention_published or anchors_published)");
    cmd->add_flag("--new-run", a->newRun,
                  "thought-anchors only: create RUN by capturing the published trace (base_solution.json's solution, "
                  "else the chunks joined by spaces) with --model and analysing its anchors");
    auto model = std::make_shared<ModelArgs>();
    cmd->add_option("--model", model->model, "with --new-run: the model (folder or .gguf) that reads the trace");
    cmd->add_option("--device", model->device, "with --new-run: cpu, cuda or cuda:N")->capture_default_str();
    cmd->callback([a, model] {
        if (a->kind == "thought-anchors") {
            const std::string name = a->name.empty() ? importers::kThoughtAnchorsPublishedName : a->name;
            const core::AnalysisResult result = importers::readThoughtAnchors(a->file, name);
            const int64_t chunks = int64_t(result.dataset("sentence_text")->count());
            if (a->newRun) {
                std::error_code ec;
                if (std::filesystem::exists(a->run, ec))
                    throw core::ArgumentError(fmt::format("Cannot create the run '{}' with --new-run: the file "
                                                          "already exists.",
                                                          a->run));
                captureTrace(a->run, importers::publishedTraceText(a->file, result), *model, a->file);
                core::writeAnalyses(a->run, std::span(&result, 1));
                fmt::print("wrote {}: /analysis/anchors and /analysis/{}, {} published chunks ({})\n", a->run, name,
                           chunks, a->file);
            } else {
                { core::RunReader reader(a->run); } // a readable run file, checked before the copy is made
                core::writeAnalyses(a->run, std::span(&result, 1));
                fmt::print("wrote /analysis/{} to {}: {} published chunks ({})\n", name, a->run, chunks, a->file);
            }
            return;
        }
        if (a->newRun) throw core::ArgumentError("--new-run applies to --kind thought-anchors only.");
        if (!model->model.empty()) throw core::ArgumentError("--model goes with --new-run.");
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

#include "capture/capture_job.hpp"

#include "capture/attention_probe.hpp"
#include "capture/pyramid.hpp"
#include "errors.hpp"
#include "intervene/edit_hook.hpp"
#include "jobs/progress.hpp"
#include "model/tokenizer.hpp"
#include "runtime/generator.hpp"
#include "runtime/transformer.hpp"
#include "store/analysis_writer.hpp"
#include "store/run_writer.hpp"

#include <cmath>
#include <memory>

namespace attnscope::core {

FullMaps parseFullMaps(const std::string& s) {
    if (s == "auto") return FullMaps::Auto;
    if (s == "always") return FullMaps::Always;
    if (s == "never") return FullMaps::Never;
    throw ArgumentError("Unknown --full value '" + s + "': use auto, always or never.");
}

namespace {

// Prompt tokens keep the tokenizer's spans; tokens given as ids (and generated ones) get the bytes each one adds
// to the decoded text.
RunTokens buildTokens(const Tokenizer* tok, const std::string& prompt, const Encoding& enc,
                      const std::vector<int32_t>& ids, size_t promptLength) {
    RunTokens t;
    t.ids = ids;
    t.text = prompt;
    for (size_t i = 0; i < enc.ids.size(); ++i) {
        t.pieces.push_back(enc.pieces[i]);
        t.spans.push_back({enc.spans[i].begin, enc.spans[i].end});
        t.generated.push_back(0);
    }
    // A few tokens of context are enough for the leading-space rule and for UTF-8 split across byte tokens;
    // decoding the whole prefix for every token would be quadratic in T.
    constexpr size_t kContext = 8;
    for (size_t i = enc.ids.size(); i < ids.size(); ++i) {
        if (!tok) { // a model without a tokenizer: ids only, no text
            t.pieces.push_back("<" + std::to_string(ids[i]) + ">");
            t.spans.push_back({0, 0});
            t.generated.push_back(i >= promptLength ? 1 : 0);
            continue;
        }
        const size_t start = i > kContext ? i - kContext : 0;
        std::vector<int32_t> window(ids.begin() + long(start), ids.begin() + long(i));
        const std::string previous = window.empty() ? std::string() : tok->decode(window);
        window.push_back(ids[i]);
        const std::string current = tok->decode(window);
        // Decoding is prefix-stable for our tokenizers; if not, fall back to the token's own piece.
        std::string added = current.compare(0, previous.size(), previous) == 0 ? current.substr(previous.size())
                                                                                : tok->piece(ids[i]);
        const auto begin = static_cast<int64_t>(t.text.size());
        t.text += added;
        t.pieces.push_back(tok->piece(ids[i]));
        t.spans.push_back({begin, static_cast<int64_t>(t.text.size())});
        t.generated.push_back(i >= promptLength ? 1 : 0);
    }
    return t;
}

} // namespace

CaptureResult captureRun(Transformer& model, const CaptureOptions& options, Progress* progress) {
    const ModelConfig& c = model.config();
    if (options.out.empty()) throw ArgumentError("A capture needs an output path.");
    // Token ids alone can be captured without a tokenizer (pieces are then "<id>"); text needs one.
    const Tokenizer* tok = options.promptIds.empty() || model.hasTokenizer() ? &model.tokenizer() : nullptr;
    Encoding enc = options.promptIds.empty() ? tok->encode(options.prompt, true) : Encoding{};
    std::vector<int32_t> promptIds = options.promptIds.empty() ? enc.ids : options.promptIds;
    for (int32_t id : promptIds)
        if (id < 0 || id >= c.vocabSize)
            throw ArgumentError("Token id " + std::to_string(id) + " is outside the vocabulary of '" + model.source() +
                                "'.");
    if (promptIds.empty()) {
        if (tok->bosId() < 0) throw ArgumentError("The prompt is empty and the model has no BOS token to start from.");
        enc.ids.push_back(static_cast<int32_t>(tok->bosId()));
        enc.pieces.push_back(tok->piece(enc.ids.back()));
        enc.spans.push_back({0, 0});
        promptIds = enc.ids;
    }

    std::vector<int32_t> ids = promptIds;
    if (!options.edits.empty()) validateEditSet(options.edits, c); // before any work: a bad head costs nothing
    if (options.generate > 0) {
        if (progress) progress->begin("generate", options.generate);
        GenerateOptions g;
        g.maxNewTokens = options.generate;
        g.sampling = options.sampling;
        g.stopIds = defaultStopIds(model);
        std::unique_ptr<EditHook> edits;
        if (!options.edits.empty()) {
            edits = std::make_unique<EditHook>(options.edits, c);
            edits->prepare(model, promptIds);
        }
        ids = generate(model, promptIds, g, edits.get(), [&](int32_t) {
                  if (progress) progress->advance();
                  return !(progress && progress->cancelled());
              }).ids;
        if (progress && progress->cancelled()) throw Cancelled{};
    }

    RunLayout layout;
    layout.tokens = static_cast<int64_t>(ids.size());
    const double fullBytes = double(c.nLayers) * double(c.nHeads) * double(layout.tokens) * double(layout.tokens) * 2;
    layout.fullProbs = options.full == FullMaps::Always ||
                       (options.full == FullMaps::Auto && fullBytes <= double(options.fullBudgetBytes));
    layout.pyramidLevels = pyramidLevelsFor(layout.tokens, options.pyramidMaxSide);
    layout.scale = 1.0 / std::sqrt(double(c.headDim));
    layout.qkLow = true;

    RunModelInfo info{architectureName(c.architecture), c.nLayers, c.nHeads, c.nKvHeads, c.headDim, c.vocabSize,
                      model.source(), model.weightsSha256()};
    const std::string text = options.promptIds.empty() ? options.prompt : std::string();
    { // the writer holds the run's temporary name until it is destroyed; /analysis/edits is written after it
        RunWriter writer(options.out, info, buildTokens(tok, text, enc, ids, promptIds.size()), layout);
        AttentionProbe probe(c, layout, ids, writer, options.portableReductions);
        if (progress) progress->begin("capture", c.nLayers);
        probe.onLayerDone = [&](int64_t) {
            if (!progress) return;
            progress->advance();
            if (progress->cancelled()) throw Cancelled{};
        };
        if (options.edits.empty()) {
            model.forward(ids, nullptr, &probe, Logits::ToHook);
        } else {
            // The probe sees the edited attention: the calibrated run and its capture are one pass.
            EditHook edits(options.edits, c, &probe);
            edits.prepare(model, ids);
            model.forward(ids, nullptr, &edits, Logits::ToHook);
        }
        probe.finish();
        if (options.probe.present()) writer.writeProbe(options.probe);
        writer.commit();
    }
    if (!options.edits.empty()) {
        AnalysisResult edits;
        edits.name = "edits";
        edits.source = "issue 6: attention edits applied during this capture (docs/methods.md §7)";
        edits.set("edits", editSetToJson(options.edits));
        edits.set("description", describeEdits(options.edits));
        writeAnalyses(options.out, std::span<const AnalysisResult>(&edits, 1));
    }

    CaptureResult r;
    r.file = options.out;
    r.tokens = layout.tokens;
    r.generated = layout.tokens - static_cast<int64_t>(promptIds.size());
    r.fullProbs = layout.fullProbs;
    r.pyramidLevels = layout.pyramidLevels;
    r.probe = options.probe;
    return r;
}

std::vector<CaptureResult> captureProbe(Transformer& model, const ProbeRequest& request, const CaptureOptions& base,
                                        Progress* progress) {
    if (!model.hasTokenizer())
        throw ArgumentError("Model '" + model.source() + "' has no tokenizer to draw the probe's ids from.");
    const ProbeVocabulary vocabulary = probeVocabulary(model.tokenizer(), model.config().maxPositions);
    const std::vector<ProbeSequence> sequences = probeSequences(request, vocabulary);
    std::vector<CaptureResult> results;
    for (size_t b = 0; b < sequences.size(); ++b) {
        CaptureOptions options = base;
        options.prompt.clear();
        options.generate = 0;
        options.promptIds = sequences[b].ids;
        options.probe = sequences[b].probe;
        options.out = probeRunPath(base.out, int64_t(b), int64_t(sequences.size()));
        results.push_back(captureRun(model, options, progress));
    }
    return results;
}

} // namespace attnscope::core

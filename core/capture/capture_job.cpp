#include "capture/capture_job.hpp"

#include "capture/attention_probe.hpp"
#include "capture/pyramid.hpp"
#include "errors.hpp"
#include "jobs/progress.hpp"
#include "model/tokenizer.hpp"
#include "runtime/generator.hpp"
#include "runtime/transformer.hpp"
#include "store/run_writer.hpp"

#include <cmath>

namespace attnscope::core {

FullMaps parseFullMaps(const std::string& s) {
    if (s == "auto") return FullMaps::Auto;
    if (s == "always") return FullMaps::Always;
    if (s == "never") return FullMaps::Never;
    throw ArgumentError("Unknown --full value '" + s + "': use auto, always or never.");
}

namespace {

// Prompt tokens keep the tokenizer's spans; generated tokens get the bytes each one adds to the decoded text.
RunTokens buildTokens(const Tokenizer& tok, const std::string& prompt, const Encoding& enc,
                      const std::vector<int32_t>& ids) {
    RunTokens t;
    t.ids = ids;
    t.text = prompt;
    for (size_t i = 0; i < enc.ids.size(); ++i) {
        t.pieces.push_back(enc.pieces[i]);
        t.spans.push_back({enc.spans[i].begin, enc.spans[i].end});
        t.generated.push_back(0);
    }
    std::vector<int32_t> prefix(enc.ids);
    std::string previous = tok.decode(prefix);
    for (size_t i = enc.ids.size(); i < ids.size(); ++i) {
        prefix.push_back(ids[i]);
        std::string current = tok.decode(prefix);
        // Decoding is prefix-stable for our tokenizers; if not, fall back to the token's own piece.
        std::string added = current.compare(0, previous.size(), previous) == 0 ? current.substr(previous.size())
                                                                                : tok.piece(ids[i]);
        const auto begin = static_cast<int64_t>(t.text.size());
        t.text += added;
        t.pieces.push_back(tok.piece(ids[i]));
        t.spans.push_back({begin, static_cast<int64_t>(t.text.size())});
        t.generated.push_back(1);
        previous = std::move(current);
    }
    return t;
}

} // namespace

CaptureResult captureRun(Transformer& model, const CaptureOptions& options, Progress* progress) {
    const Tokenizer& tok = model.tokenizer();
    const ModelConfig& c = model.config();
    if (options.out.empty()) throw ArgumentError("A capture needs an output path.");
    Encoding enc = tok.encode(options.prompt, true);
    if (enc.ids.empty()) {
        if (tok.bosId() < 0) throw ArgumentError("The prompt is empty and the model has no BOS token to start from.");
        enc.ids.push_back(static_cast<int32_t>(tok.bosId()));
        enc.pieces.push_back(tok.piece(enc.ids.back()));
        enc.spans.push_back({0, 0});
    }

    std::vector<int32_t> ids = enc.ids;
    if (options.generate > 0) {
        if (progress) progress->begin("generate", options.generate);
        GenerateOptions g;
        g.maxNewTokens = options.generate;
        g.sampling = options.sampling;
        g.stopIds = defaultStopIds(model);
        ids = generate(model, enc.ids, g, nullptr, [&](int32_t) {
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

    RunModelInfo info{architectureName(c.architecture), c.nLayers, c.nHeads, c.nKvHeads, c.headDim, c.vocabSize,
                      model.source(), model.weightsSha256()};
    RunWriter writer(options.out, info, buildTokens(tok, options.prompt, enc, ids), layout);
    AttentionProbe probe(c, layout, ids, writer);
    if (progress) progress->begin("capture", c.nLayers);
    probe.onLayerDone = [&](int64_t) {
        if (!progress) return;
        progress->advance();
        if (progress->cancelled()) throw Cancelled{};
    };
    model.forward(ids, nullptr, &probe, Logits::ToHook);
    probe.finish();
    writer.commit();

    CaptureResult r;
    r.file = options.out;
    r.tokens = layout.tokens;
    r.generated = layout.tokens - static_cast<int64_t>(enc.ids.size());
    r.fullProbs = layout.fullProbs;
    r.pyramidLevels = layout.pyramidLevels;
    return r;
}

} // namespace attnscope::core

#include "analysis/experiments/retrieval_experiment.hpp"

#include "analysis/rouge_recall.hpp"
#include "errors.hpp"
#include "intervene/edit_hook.hpp"
#include "jobs/progress.hpp"
#include "model/tokenizer.hpp"
#include "runtime/attention_hook.hpp"
#include "runtime/transformer.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace attnscope::core {
namespace {

// Each head's top-1 key in the newest query row of every layer: [L][H]. During decoding a block is that one row.
class TopKeyHook final : public AttentionHook {
public:
    TopKeyHook(int64_t layers, int64_t heads) : m_heads(heads), m_top1(size_t(layers * heads), -1) {}

    void onProbs(const AttentionBlock& b, at::Tensor& probs, const at::Tensor&) override {
        // argmax keeps the first of equal maxima, as the reference's topk(1) does on the CPU.
        const at::Tensor keys = probs.select(1, b.queryCount - 1).argmax(-1).to(at::kCPU, at::kLong).contiguous();
        std::copy_n(keys.data_ptr<int64_t>(), m_heads, m_top1.begin() + b.layer * m_heads);
    }
    std::span<const int64_t> top1() const { return m_top1; }

private:
    int64_t m_heads;
    std::vector<int64_t> m_top1;
};

std::string trimmed(const std::string& s) {
    const auto first = s.find_first_not_of(" \t\n\r\v\f");
    if (first == std::string::npos) return {};
    return s.substr(first, s.find_last_not_of(" \t\n\r\v\f") - first + 1);
}

struct VocabularyScan {
    std::vector<int32_t> periods; // ids whose text is "." with or without surrounding whitespace
    bool hasNewline = false;
};

VocabularyScan scanVocabulary(const Tokenizer& tok) {
    VocabularyScan v;
    for (int64_t id = 0; id < tok.vocabSize(); ++id) {
        const std::string piece = tok.piece(int32_t(id));
        if (trimmed(piece) == ".") v.periods.push_back(int32_t(id));
        v.hasNewline = v.hasNewline || piece.find('\n') != std::string::npos;
    }
    return v;
}

std::vector<int32_t> encodeText(const Tokenizer& tok, std::string_view text) { return tok.encode(text, false).ids; }

int32_t argmax(const std::vector<float>& logits) {
    return int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

// One test's decoding: prefill prompt[:-1] without the hook, then greedy steps from the last prompt token, each step
// scoring the heads' top-1 keys against the token it produced, until a stop token or maxNewTokens.
class Decoder {
public:
    Decoder(Transformer& model, const Tokenizer& tok, const RetrievalParams& p, int64_t layers, int64_t heads,
            const EditSet& edits)
        : m_model(model), m_tok(tok), m_params(p), m_hook(layers, heads), m_edits(edits), m_layers(layers),
          m_heads(heads) {}

    // Fills test.generated and test.response; returns the test's [L][H] score.
    HeadScores run(std::span<const int32_t> prompt, RetrievalTest& test) {
        HeadScores score(m_layers, m_heads);
        KvCache cache;
        if (prompt.size() > 1) m_model.forward(prompt.first(prompt.size() - 1), &cache, nullptr, Logits::Last);
        int32_t input = prompt.back();
        AttentionHook* hook = &m_hook;
        std::optional<EditHook> edited; // one per test: ACT's sink sets and mean references belong to one prompt
        if (!m_edits.empty()) {
            edited.emplace(m_edits, m_model.config(), &m_hook);
            edited->prepare(m_model, prompt);
            hook = &*edited;
        }
        for (int64_t step = 0; step < m_params.maxNewTokens; ++step) {
            const ForwardOutput out = m_model.forward(std::span(&input, 1), &cache, hook, Logits::Last);
            input = argmax(out.logits);
            test.generated.push_back(input);
            accumulateRetrievalStep(m_hook.top1(), input, prompt, test.span, score);
            if (stops(input)) break;
        }
        test.response = trimmed(m_tok.decode(test.generated, true));
        return score;
    }

private:
    bool stops(int32_t id) const {
        if (id == m_tok.eosId()) return true;
        const std::string piece = m_tok.piece(id);
        return std::any_of(m_params.stopStrings.begin(), m_params.stopStrings.end(),
                           [&](const std::string& s) { return piece.find(s) != std::string::npos; });
    }

    Transformer& m_model;
    const Tokenizer& m_tok;
    const RetrievalParams& m_params;
    TopKeyHook m_hook;
    const EditSet& m_edits;
    int64_t m_layers, m_heads;
};

} // namespace

RetrievalParams resolveRetrievalParams(const Transformer& model, RetrievalParams p) {
    const int64_t maxPositions = model.config().maxPositions;
    if (p.buffer < 0) p.buffer = defaultNeedleBuffer(maxPositions);
    if (p.lengths.empty()) p.lengths = defaultNeedleLengths(maxPositions, p.buffer);
    if (p.stopStrings.empty()) p.stopStrings = {scanVocabulary(model.tokenizer()).hasNewline ? "\n" : "."};
    if (p.depths.empty()) throw ArgumentError("The retrieval test needs at least one needle depth.");
    if (p.maxNewTokens < 1)
        throw ArgumentError(fmt::format("The retrieval test needs at least one new token, not {}.", p.maxNewTokens));
    for (int64_t length : p.lengths)
        if (length < 1 || (maxPositions > 0 && length > maxPositions))
            throw ArgumentError(fmt::format("A context length of {} tokens is outside the {} positions of '{}'.",
                                            length, maxPositions, model.source()));
    for (int64_t depth : p.depths)
        if (depth < 0 || depth > 100)
            throw ArgumentError(fmt::format("A needle depth is a percentage in [0, 100], not {}.", depth));
    return p;
}

RetrievalResult runRetrievalExperiment(Transformer& model, std::string_view haystack,
                                       std::span<const NeedleCase> needles, const RetrievalParams& params,
                                       Progress* progress, const EditSet& decodeEdits) {
    if (needles.empty()) throw ArgumentError("The retrieval test needs at least one needle.");
    RetrievalResult r;
    r.params = resolveRetrievalParams(model, params);
    const RetrievalParams& p = r.params;
    const ModelConfig& c = model.config();
    r.layers = c.nLayers;
    r.heads = c.nHeads;
    r.kvHeads = c.nKvHeads;
    r.needles.assign(needles.begin(), needles.end());
    validateEditSet(decodeEdits, c);
    const Tokenizer& tok = model.tokenizer();

    NeedleTokens t;
    t.prefix = tok.encode("", true).ids;
    t.periods = scanVocabulary(tok).periods;
    const int64_t longest = *std::max_element(p.lengths.begin(), p.lengths.end());
    std::string text = repeatHaystack(haystack, longest);
    t.haystack = encodeText(tok, text);
    if (t.haystack.empty()) throw ArgumentError("The haystack holds no token.");
    // The reference counts words; a tokenizer with fewer tokens than words still gets a haystack as long as asked.
    while (int64_t(t.haystack.size()) < longest) {
        text += haystack;
        t.haystack = encodeText(tok, text);
    }

    // Every needle is tokenized and fitted into the shortest length before the first test, so that bad input fails
    // before any decoding (and before a progress bar shows).
    struct PreparedNeedle {
        std::vector<int32_t> needle, question, realNeedle;
    };
    std::vector<PreparedNeedle> prepared;
    const int64_t shortest = *std::min_element(p.lengths.begin(), p.lengths.end());
    for (size_t n = 0; n < needles.size(); ++n) {
        PreparedNeedle q{encodeText(tok, needles[n].needle),
                         encodeText(tok, renderQuestion(p.questionTemplate, needles[n].question)),
                         encodeText(tok, needles[n].realNeedle)};
        if (q.realNeedle.empty())
            throw ArgumentError(fmt::format("The real needle of needle {} holds no token.", n + 1));
        t.needle = q.needle;
        buildNeedlePrompt(t, shortest, 100, p.buffer);
        prepared.push_back(std::move(q));
    }

    Decoder decoder(model, tok, p, r.layers, r.heads, decodeEdits);
    if (progress) progress->begin("retrieval", int64_t(needles.size() * p.lengths.size() * p.depths.size()));
    for (size_t n = 0; n < needles.size(); ++n) {
        t.needle = prepared[n].needle;
        t.question = prepared[n].question;
        for (int64_t length : p.lengths)
            for (int64_t depth : p.depths) {
                if (progress && progress->cancelled()) throw Cancelled();
                const NeedlePrompt prompt = buildNeedlePrompt(t, length, depth, p.buffer);
                RetrievalTest test{int64_t(n), length, depth, int64_t(prompt.ids.size()), prompt.needleAt,
                                   findNeedleSpan(prompt.ids, prepared[n].realNeedle)};
                HeadScores score = decoder.run(prompt.ids, test);
                test.recall = rouge1Recall(needles[n].realNeedle, test.response);
                test.kept = test.recall > p.minRecall;
                if (test.kept) r.keptScores.push_back(std::move(score));
                r.tests.push_back(std::move(test));
                if (progress) {
                    progress->advance();
                    progress->setDetail(fmt::format("length {} depth {}%: {} of {} kept", length, depth, r.kept(),
                                                    r.tests.size()));
                }
            }
    }
    finishRetrievalScore(r);
    return r;
}

} // namespace attnscope::core

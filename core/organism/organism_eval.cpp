#include "organism/organism_eval.hpp"

#include "capture/dense_maps_hook.hpp"
#include "errors.hpp"
#include "intervene/edit_hook.hpp"
#include "jobs/progress.hpp"
#include "organism/organism_vocab.hpp"
#include "runtime/transformer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>

namespace attnscope::core {
namespace {

// Cross-entropy (nats) of predicting ids[pos + 1] from the logits row at pos.
double tokenLoss(const ForwardOutput& out, std::span<const int32_t> ids, int64_t pos) {
    const float* row = out.logits.data() + pos * out.vocab;
    const float top = *std::max_element(row, row + out.vocab);
    double sum = 0;
    for (int64_t v = 0; v < out.vocab; ++v)
        sum += std::exp(double(row[v]) - top);
    return std::log(sum) + top - double(row[ids[static_cast<size_t>(pos + 1)]]);
}

int64_t argmax(const ForwardOutput& out, int64_t pos) {
    const float* row = out.logits.data() + pos * out.vocab;
    return std::max_element(row, row + out.vocab) - row;
}

} // namespace

OrganismEval::Best OrganismEval::best(const std::vector<double>& perHead, int64_t minLayer) const {
    Best b;
    for (int64_t l = minLayer; l < layers; ++l)
        for (int64_t h = 0; h < heads; ++h)
            if (b.layer < 0 || perHead[static_cast<size_t>(l * heads + h)] > b.value)
                b = {l, h, perHead[static_cast<size_t>(l * heads + h)]};
    return b;
}

OrganismEval evaluateOrganism(Transformer& model, const OrganismEvalOptions& o, Progress* progress) {
    const ModelConfig& c = model.config();
    if (!organismVocab().isOrganismSize(c.vocabSize))
        throw ArgumentError(fmt::format("The model '{}' has a vocabulary of {} tokens, not the organism's {}.",
                                        model.source(), c.vocabSize, organismVocab().size()));
    validateEditSet(o.edits, c); // before the first story
    if (o.sinkWindow < 1)
        throw ArgumentError(fmt::format("The sink window must hold at least one token, not {}.", o.sinkWindow));
    OrganismEval e;
    e.layers = c.nLayers;
    e.heads = c.nHeads;
    const size_t perHead = static_cast<size_t>(e.layers * e.heads);
    e.retrievalTop1.assign(perHead, 0.0);
    for (auto& v : e.retrievalTop1ByKind)
        v.assign(perHead, 0.0);
    e.inductionScore.assign(perHead, 0.0);
    e.bosAlpha.assign(perHead, 0.0);
    int64_t stripe = 0;

    StoryCorpus corpus(o.seed, o.story);
    if (progress) progress->begin("evaluate", o.questions + o.repeats);
    for (int64_t index = 0; index < o.maxStories && (e.questions < o.questions || e.spans < o.repeats); ++index) {
        if (progress && progress->cancelled()) throw Cancelled();
        StorySample s = corpus.sample(CorpusSplit::HeldOut, index);
        std::vector<const StoryQuestion*> far;
        for (const StoryQuestion& q : s.questions)
            if (q.distance() >= o.minDistance && e.questions + int64_t(far.size()) < o.questions) far.push_back(&q);
        const bool useSpan = s.repeat && e.spans < o.repeats;
        if (far.empty() && !useSpan) continue;

        const auto T = static_cast<int64_t>(s.ids.size());
        DenseMapsHook maps(e.layers, e.heads, T);
        AttentionHook* hook = &maps;
        // One hook per story: mean ablations without a reference average this story, ACT finds this story's sinks.
        std::optional<EditHook> edited;
        if (!o.edits.empty()) {
            edited.emplace(o.edits, c, &maps);
            edited->prepare(model, s.ids);
            hook = &*edited;
        }
        ForwardOutput out = model.forward(s.ids, nullptr, hook, Logits::All);
        e.stories += 1;
        // Causal attention: the first rows of the whole story are those of the story cut to its first window tokens.
        const int64_t window = std::min(T, o.sinkWindow);
        for (int64_t l = 0; l < e.layers; ++l)
            for (int64_t h = 0; h < e.heads; ++h) {
                double column = 0;
                for (int64_t q = 0; q < window; ++q)
                    column += maps.at(l, h, q, 0);
                e.bosAlpha[static_cast<size_t>(l * e.heads + h)] += column / double(window);
            }
        for (const StoryQuestion* q : far) {
            bool right = true;
            for (size_t w = 0; w < q->answerWords.size(); ++w) {
                const int64_t pos = q->answerStart - 1 + int64_t(w);
                right = right && argmax(out, pos) == s.ids[static_cast<size_t>(pos + 1)];
            }
            e.answered += right;
            e.questionsByKind[size_t(q->kind)] += 1;
            e.answeredByKind[size_t(q->kind)] += right;
            for (int64_t l = 0; l < e.layers; ++l)
                for (int64_t h = 0; h < e.heads; ++h) {
                    const bool hit = maps.top1(l, h, q->answerStart - 1) == q->factAnswerIndex;
                    e.retrievalTop1[static_cast<size_t>(l * e.heads + h)] += hit;
                    e.retrievalTop1ByKind[size_t(q->kind)][static_cast<size_t>(l * e.heads + h)] += hit;
                }
            e.questions += 1;
            if (progress) progress->advance();
        }
        if (useSpan) {
            const RepeatedSpan& r = *s.repeat;
            double first = 0, second = 0;
            for (int64_t i = 0; i + 1 < r.length; ++i) {
                first += tokenLoss(out, s.ids, r.firstStart + i);
                second += tokenLoss(out, s.ids, r.secondStart + i);
                for (int64_t l = 0; l < e.layers; ++l)
                    for (int64_t h = 0; h < e.heads; ++h)
                        e.inductionScore[static_cast<size_t>(l * e.heads + h)] +=
                            maps.at(l, h, r.secondStart + i, r.firstStart + i + 1);
            }
            stripe += r.length - 1;
            e.firstCopyLoss += first / double(r.length - 1);
            e.secondCopyLoss += second / double(r.length - 1);
            e.spans += 1;
            if (progress) progress->advance();
        }
    }
    for (size_t i = 0; i < perHead; ++i) {
        e.bosAlpha[i] /= double(std::max<int64_t>(1, e.stories));
        e.retrievalTop1[i] /= double(std::max<int64_t>(1, e.questions));
        for (size_t k = 0; k < kQuestionKinds; ++k)
            e.retrievalTop1ByKind[k][i] /= double(std::max<int64_t>(1, e.questionsByKind[k]));
        e.inductionScore[i] /= double(std::max<int64_t>(1, stripe));
    }
    e.answerAccuracy = double(e.answered) / double(std::max<int64_t>(1, e.questions));
    e.firstCopyLoss /= double(std::max<int64_t>(1, e.spans));
    e.secondCopyLoss /= double(std::max<int64_t>(1, e.spans));
    e.copyLossRatio = e.firstCopyLoss > 0 ? e.secondCopyLoss / e.firstCopyLoss : 0.0;
    return e;
}

} // namespace attnscope::core

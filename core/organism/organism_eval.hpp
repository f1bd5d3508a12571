#pragma once
// Measures the organism's known answers on held-out stories: long-range question answering, the retrieval head, the
// induction behaviour on repeated spans and the BOS sink. Per-head arrays are [layer][head] row-major. Torch-free.
#include "intervene/attention_edit.hpp"
#include "organism/story_corpus.hpp"

#include <array>
#include <cstdint>
#include <vector>

namespace attnscope::core {

class Progress;
class Transformer;

struct OrganismEvalOptions {
    uint64_t seed = 1;          // seeds the held-out split (never trained on, whatever the training seed)
    int64_t questions = 200;    // long-range questions to collect
    int64_t minDistance = 200;  // tokens between the fact's answer word and the answer being produced
    int64_t repeats = 100;      // stories with a repeated random span to collect
    int64_t maxStories = 20000; // held-out stories to scan at most
    int64_t sinkWindow = 64;    // methods.md §1.2's T: alpha of <bos> over each story's first T tokens
    StoryConfig story;          // must match the training corpus
    EditSet edits;              // applied to every forward pass (empty: the model as trained); the per-head
                                // scores are then read from the edited attention
};

struct OrganismEval {
    int64_t layers = 0, heads = 0, stories = 0;
    // Long-range questions: teacher-forced, every answer word must be the argmax.
    int64_t questions = 0, answered = 0;
    double answerAccuracy = 0;
    // The same per question kind (QuestionKind order: hide, go, give, colour): which facts the organism cannot yet
    // look up.
    std::array<int64_t, kQuestionKinds> questionsByKind{}, answeredByKind{};
    // Share of those questions on which the head's top-1 key, at the query that produces the first answer word, is
    // the fact's first answer word; [L][H].
    std::vector<double> retrievalTop1;
    // The same per question kind, over that kind's questions: which head looks up which kind of fact.
    std::array<std::vector<double>, kQuestionKinds> retrievalTop1ByKind;
    // Repeated spans: mean loss (nats) of tokens 2..n of the first and of the second copy, and their ratio.
    int64_t spans = 0;
    double firstCopyLoss = 0, secondCopyLoss = 0, copyLossRatio = 0;
    // Mean attention from the second copy's token i to the first copy's token i + 1 (the induction stripe); [L][H].
    std::vector<double> inductionScore;
    // alpha of key 0 (methods.md §1.2: mean attention <bos> gets from the queries that see it, on the first
    // sinkWindow tokens of each story, as Gu et al. truncate their inputs to T = 64), mean over stories; [L][H].
    std::vector<double> bosAlpha;

    // The best head of a [L][H] score, with minLayer restricting the search (the sink must be above layer 0).
    struct Best {
        int64_t layer = -1, head = -1;
        double value = 0;
    };
    Best best(const std::vector<double>& perHead, int64_t minLayer = 0) const;
};

// Runs the held-out stories through the model (the runtime, not the trainer) and measures. Throws ArgumentError
// when the model's vocabulary is not the organism's or the edits do not fit the model.
OrganismEval evaluateOrganism(Transformer& model, const OrganismEvalOptions& options, Progress* progress = nullptr);

} // namespace attnscope::core

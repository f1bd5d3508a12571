#pragma once
// Counterfactual resampling of a reasoning trace (methods.md §4.2-4.3): for every sentence i, N rollouts from
// prompt + the sentences before i (i removed), their first sentence, answer and correctness, the similarity of that
// first sentence to the removed one, and the black-box importance of every sentence; stored as
// /analysis/anchors_resampling. Thread: the model's worker.
#include "analysis/resampling_importance.hpp"
#include "jobs/resampling_answer.hpp"
#include "store/run_analysis.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace attnscope::core {

class Progress;
class Transformer;

struct ResamplingOptions {
    int64_t rollouts = 0; // per sentence; 0 skips the black-box analysis (the paper uses 100)
    double temperature = 0.6;
    double topP = 0.95;
    int64_t maxNewTokens = 1024; // the paper allows 16384
    std::string answerRegex = kBoxedAnswerPattern;
    std::string expectedAnswer; // empty: the trace's own answer (resamplingTrace)
    double similarityThreshold = 0.8;
    uint64_t seed = 0;
    // Not empty: as many forced-answer rollouts per sentence from prompt + prefix + this text (the paper's
    // "\n</think>\n\nTherefore, the final answers is \boxed{"); their answers are read from this text + the rollout.
    std::string forceAnswer;
};

// What the rollouts start from, split out of a trace's text (traceText's layout or plain text).
struct ResamplingTrace {
    std::string prompt;              // the text up to and including "<think>\n"; empty without "<think>"
    std::vector<std::string> chunks; // the §4.1 sentences of the reasoning
    std::string expectedAnswer;      // empty: correctness unknown
};

// The expected answer is `given` when not empty; else the answer pattern's match in the text after "</think>" (the
// whole of that text when the pattern does not match it); else, when that text is empty or absent, the pattern's
// first match in the reasoning itself (a story that states its own answer); else empty (correctness unknown).
ResamplingTrace resamplingTrace(const std::string& text, const AnswerExtractor& answers, const std::string& given);

// "prefix_without_chunk" of §4.2: chunks 0..i joined by single spaces, every occurrence of chunk i removed, stripped.
std::string prefixWithoutChunk(const std::vector<std::string>& chunks, size_t i);

struct ResamplingReport {
    ResamplingOptions options;
    ResamplingTrace trace;
    std::vector<ChunkRollouts> chunks;                               // one per sentence, rollouts in seed order
    std::vector<std::vector<int64_t>> generatedTokens, forcedTokens; // [sentence][rollout]; forced: empty when none
    std::vector<ChunkImportance> importance;
    int64_t embeddingForwards = 0;
    double seconds = 0.0; // rollouts and embeddings, wall clock
};

// Rollout r of sentence i samples with seed mix64(seed ^ mix64(i * rollouts + r + 1)) (its forced-answer twin with
// mix64 of that + 1), so every rollout is reproducible on its own. Progress: "resample", one unit per rollout.
// ArgumentError for options out of range or a trace without sentences; Cancelled.
ResamplingReport runResampling(Transformer& model, const ResamplingTrace& trace, const ResamplingOptions& options,
                               Progress* progress = nullptr);

// The report as /analysis/anchors_resampling: per-sentence metrics [N], counts [N,4], per-rollout correctness (-1
// unknown), similarity and generated tokens [N,R], first sentences and answers [N*R] (strings are one-dimensional in
// the run format), the same for forced-answer rollouts when there are any; every setting as a parameter.
AnalysisResult resamplingAnalysis(const ResamplingReport& report);

// Reads the run's text, runs the rollouts with `model` (the run's vocabulary) and writes /analysis/anchors_resampling
// into `run`. Errors as runResampling, plus the answer pattern's ArgumentError and the writer's errors.
AnalysisResult resampleRun(Transformer& model, const std::filesystem::path& run, const ResamplingOptions& options,
                           Progress* progress = nullptr);

} // namespace attnscope::core

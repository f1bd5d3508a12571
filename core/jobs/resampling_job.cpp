#include "jobs/resampling_job.hpp"

#include "analysis/sentence_spans.hpp"
#include "errors.hpp"
#include "jobs/progress.hpp"
#include "jobs/resampling_embedding.hpp"
#include "model/tokenizer.hpp"
#include "runtime/generator.hpp"
#include "runtime/transformer.hpp"
#include "split_mix.hpp"
#include "store/analysis_writer.hpp"
#include "store/run_reader.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <limits>

namespace attnscope::core {

namespace {

std::string stripped(std::string_view s) {
    const size_t b = s.find_first_not_of(" \t\r\n\f\v");
    if (b == std::string_view::npos) return {};
    return std::string(s.substr(b, s.find_last_not_of(" \t\r\n\f\v") - b + 1));
}

void checkOptions(const ResamplingOptions& o) {
    if (o.rollouts < 1) throw ArgumentError("Resampling needs at least 1 rollout per sentence.");
    if (!(o.temperature > 0.0) || !std::isfinite(o.temperature))
        throw ArgumentError("The rollout temperature must be a finite number above 0 (rollouts are sampled).");
    if (!(o.topP > 0.0 && o.topP <= 1.0)) throw ArgumentError("The rollouts' top-p must be in (0, 1].");
    if (o.maxNewTokens < 1) throw ArgumentError("Rollouts need a budget of at least 1 new token.");
    if (!(o.similarityThreshold >= -1.0 && o.similarityThreshold <= 1.0))
        throw ArgumentError("The similarity threshold is a cosine and must be in [-1, 1].");
}

// The context's ids; an empty context starts from BOS (or, for tokenizers without one, EOS as GPT-2 does).
std::vector<int32_t> contextIds(const Transformer& model, const std::string& context) {
    const Tokenizer& tok = model.tokenizer();
    std::vector<int32_t> ids = tok.encode(context, true).ids;
    if (ids.empty() && tok.bosId() >= 0) ids.push_back(int32_t(tok.bosId()));
    if (ids.empty() && tok.eosId() >= 0) ids.push_back(int32_t(tok.eosId()));
    if (ids.empty())
        throw ArgumentError(
            fmt::format("Model '{}' has no BOS or EOS token to start a rollout from an empty prefix.", model.source()));
    return ids;
}

// The generated text alone: decoding the whole sequence keeps SentencePiece's leading-space rule and split UTF-8.
std::string rolloutText(const Tokenizer& tok, const GenerateResult& r) {
    const std::vector<int32_t> context(r.ids.begin(), r.ids.begin() + r.promptLength);
    const std::string all = tok.decode(r.ids), before = tok.decode(context);
    if (all.compare(0, before.size(), before) == 0) return all.substr(before.size());
    return tok.decode(std::vector<int32_t>(r.ids.begin() + r.promptLength, r.ids.end()));
}

} // namespace

ResamplingTrace resamplingTrace(const std::string& text, const AnswerExtractor& answers, const std::string& given) {
    ResamplingTrace t;
    for (const SentenceSpan& s : segmentSentences(text))
        t.chunks.push_back(s.text);
    if (const size_t think = text.find("<think>"); think != std::string::npos)
        t.prompt = text.substr(0, think + 7) + "\n"; // the reference's prompt ends "<think>\n"
    t.expectedAnswer = given;
    if (!t.expectedAnswer.empty()) return t;
    const size_t think = text.find("<think>"), begin = think == std::string::npos ? 0 : think + 7;
    const size_t end = text.find("</think>", begin);
    if (end != std::string::npos) {
        const std::string after = text.substr(end + 8);
        t.expectedAnswer = answers.extract(after);
        if (t.expectedAnswer.empty()) t.expectedAnswer = stripped(after);
        if (!t.expectedAnswer.empty()) return t;
    }
    t.expectedAnswer =
        answers.extract(std::string_view(text).substr(begin, end == std::string::npos ? end : end - begin));
    return t;
}

std::string prefixWithoutChunk(const std::vector<std::string>& chunks, size_t i) {
    std::string prefix;
    for (size_t k = 0; k <= i && k < chunks.size(); ++k)
        prefix += (k ? " " : "") + chunks[k];
    const std::string& chunk = chunks.at(i);
    // Python's str.replace(chunk, ""): every non-overlapping occurrence, left to right.
    if (!chunk.empty())
        for (size_t at = prefix.find(chunk); at != std::string::npos; at = prefix.find(chunk, at))
            prefix.erase(at, chunk.size());
    return stripped(prefix);
}

ResamplingReport runResampling(Transformer& model, const ResamplingTrace& trace, const ResamplingOptions& options,
                               Progress* progress) {
    checkOptions(options);
    if (trace.chunks.empty()) throw ArgumentError("The trace has no sentence to resample.");
    const auto start = std::chrono::steady_clock::now();
    const AnswerExtractor answers(options.answerRegex);
    SentenceEmbedder embedder(model);
    const Tokenizer& tok = model.tokenizer();
    const int64_t N = int64_t(trace.chunks.size()), R = options.rollouts;
    const std::string expected = normalizeAnswer(trace.expectedAnswer);

    ResamplingReport report;
    report.options = options;
    report.trace = trace;
    GenerateOptions g;
    g.maxNewTokens = options.maxNewTokens;
    g.sampling.temperature = options.temperature;
    g.sampling.topP = options.topP;
    g.stopIds = defaultStopIds(model);
    const bool forcing = !options.forceAnswer.empty();
    if (progress) progress->begin("resample", N * R * (forcing ? 2 : 1));
    int64_t tokens = 0;
    // One rollout at a time: the runtime runs batch 1 and its KV cache cannot be copied, so each rollout prefills
    // its own context.
    auto sample = [&](const std::vector<int32_t>& ids, uint64_t seed, int64_t sentence) {
        if (progress && progress->cancelled()) throw Cancelled();
        g.sampling.seed = seed;
        const GenerateResult out =
            generate(model, ids, g, nullptr, [&](int32_t) { return !(progress && progress->cancelled()); });
        if (progress && progress->cancelled()) throw Cancelled();
        const int64_t n = int64_t(out.ids.size()) - out.promptLength;
        tokens += n;
        if (progress) {
            progress->advance();
            const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            progress->setDetail(fmt::format("sentence {}/{}, {:.0f} tok/s", sentence + 1, N, s > 0 ? tokens / s : 0.0));
        }
        return std::pair{rolloutText(tok, out), n};
    };
    auto score = [&](AnswerRollout& rollout) {
        if (!expected.empty()) rollout.correct = !rollout.answer.empty() && normalizeAnswer(rollout.answer) == expected;
    };
    for (int64_t i = 0; i < N; ++i) {
        const std::string context = trace.prompt + prefixWithoutChunk(trace.chunks, size_t(i));
        const std::vector<int32_t> ids = contextIds(model, context);
        const std::vector<float> removed = embedder.embed(trace.chunks[size_t(i)]);
        ChunkRollouts chunk;
        chunk.index = i;
        std::vector<int64_t> lengths, forcedLengths;
        for (int64_t r = 0; r < R; ++r) {
            const auto [text, n] = sample(ids, mix64(options.seed ^ mix64(uint64_t(i * R + r + 1))), i);
            AnswerRollout rollout;
            const std::vector<SentenceSpan> first = segmentSentences(text);
            rollout.resampled = first.empty() ? std::string() : first.front().text;
            rollout.answer = answers.extract(text);
            score(rollout);
            rollout.similarity = rollout.resampled.empty()
                                     ? std::numeric_limits<double>::quiet_NaN()
                                     : SentenceEmbedder::cosine(embedder.embed(rollout.resampled), removed);
            chunk.rollouts.push_back(std::move(rollout));
            lengths.push_back(n);
        }
        if (forcing) {
            const std::vector<int32_t> forcedIds = contextIds(model, context + options.forceAnswer);
            for (int64_t r = 0; r < R; ++r) {
                const auto [text, n] =
                    sample(forcedIds, mix64(mix64(options.seed ^ mix64(uint64_t(i * R + r + 1))) + 1), i);
                AnswerRollout rollout;
                rollout.answer = answers.extract(options.forceAnswer + text);
                rollout.similarity = std::numeric_limits<double>::quiet_NaN();
                score(rollout);
                chunk.forced.push_back(std::move(rollout));
                forcedLengths.push_back(n);
            }
        }
        report.chunks.push_back(std::move(chunk));
        report.generatedTokens.push_back(std::move(lengths));
        report.forcedTokens.push_back(std::move(forcedLengths));
    }
    ImportanceOptions io;
    io.similarityThreshold = options.similarityThreshold;
    report.importance = resamplingImportance(report.chunks, io);
    report.embeddingForwards = embedder.forwards();
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return report;
}

AnalysisResult resampleRun(Transformer& model, const std::filesystem::path& run, const ResamplingOptions& options,
                           Progress* progress) {
    checkOptions(options);
    std::string text;
    {
        RunReader reader(run);
        if (reader.model().vocabSize != model.config().vocabSize)
            throw ArgumentError(fmt::format("Run file '{}' was captured with a vocabulary of {} tokens and the model "
                                            "has {}; give the run's model.",
                                            run.string(), reader.model().vocabSize, model.config().vocabSize));
        text = reader.tokens().text;
    }
    const AnswerExtractor answers(options.answerRegex);
    const ResamplingTrace trace = resamplingTrace(text, answers, options.expectedAnswer);
    if (trace.chunks.empty())
        throw ArgumentError(fmt::format("Run file '{}' holds no sentence to resample.", run.string()));
    AnalysisResult result = resamplingAnalysis(runResampling(model, trace, options, progress));
    if (progress) progress->begin("write", 1);
    AnalysisWriter writer(run);
    writer.write(result);
    writer.commit();
    if (progress) progress->advance();
    return result;
}

} // namespace attnscope::core

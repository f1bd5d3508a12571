// Thought Anchors' cost on a long trace (issue 7): time and peak memory of the capture (baseline), the white-box
// analysis (`analyze --only anchors`) and the suppression matrix (N + 1 forwards), each in its own child process;
// then the black-box resampling's cost per rollout (one rollout of at most 32 new tokens per sentence).
// The trace is built of plain sentences until it holds the requested sentences and about the requested tokens.
// Not a test.
//   bench_anchors [MODEL [SENTENCES [TOKENS]]]   (default: stories260K, 40 sentences, 1500 tokens)
#include "bench_common.hpp"
#include "analysis/sentence_spans.hpp"
#include "capture/capture_job.hpp"
#include "child_process.hpp"
#include "intervene/suppression_matrix.hpp"
#include "jobs/analyze_job.hpp"
#include "jobs/process_setup.hpp"
#include "jobs/resampling_job.hpp"
#include "model/tokenizer.hpp"
#include "runtime/transformer.hpp"
#include "store/run_reader.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

using namespace attnscope::core;
using attnscope::bench::measureInChild;

using attnscope::bench::since;

namespace {

// `sentences` sentences whose words are drawn in turn from a small story vocabulary, each as long as it takes for the
// whole to reach about `tokens` tokens.
std::string trace(const Tokenizer& tok, int64_t sentences, int64_t tokens) {
    static const char* words[] = {"the",   "little", "girl", "saw",  "a",    "big",   "red",  "ball", "in",   "park",
                                  "and",   "her",    "mom",  "said", "they", "would", "play", "with", "it",   "after",
                                  "lunch", "dog",    "ran",  "to",   "tree", "happy", "sun",  "was",  "warm", "bright"};
    const int64_t nWords = int64_t(std::size(words));
    int64_t perSentence = 4, w = 0;
    for (;; ++perSentence) {
        std::string text;
        w = 0;
        for (int64_t s = 0; s < sentences; ++s) {
            text += s ? " " : "";
            for (int64_t k = 0; k < perSentence; ++k, ++w)
                text += std::string(k ? " " : "") + (k ? words[w % nWords] : "Then");
            text += ".";
        }
        if (int64_t(tok.encode(text, true).ids.size()) >= tokens) return text;
    }
}

} // namespace

int main(int argc, char** argv) {
    configureProcess();
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    const std::string model =
        argc > 1 ? argv[1]
                 : attnscope::bench::stories260K().string();
    const int64_t sentences = argc > 2 ? std::atoll(argv[2]) : 40, tokens = argc > 3 ? std::atoll(argv[3]) : 1500;
    const auto run =
        std::filesystem::temp_directory_path() / ("bench-anchors-" + std::to_string(::getpid()) + ".attn.h5");

    const auto cap = measureInChild([&] {
        auto m = Transformer::load(model, {});
        CaptureOptions c;
        c.promptIds = m->tokenizer().encode(trace(m->tokenizer(), sentences, tokens), true).ids;
        c.out = run;
        const auto t0 = std::chrono::steady_clock::now();
        captureRun(*m, c);
        return since(t0);
    });
    if (!cap.ok) {
        fmt::print("capture failed\n");
        return 1;
    }
    const RunTokens t = RunReader(run).tokens();
    std::vector<SentenceSpan> spans = segmentSentences(t.text);
    assignTokenRanges(spans, t.spans);
    fmt::print("bench_anchors: {}, {} sentences, {} tokens\n", model, spans.size(), t.ids.size());
    fmt::print("{:<20} {:8.2f} s {:5.2f} GiB  (baseline)\n", "capture", cap.seconds, cap.peakGiB);

    const auto white = measureInChild([&] {
        const auto t0 = std::chrono::steady_clock::now();
        analyzeRun({run, {"anchors"}});
        return since(t0);
    });
    fmt::print("{:<20} {:8.2f} s {:5.2f} GiB  {:6.3f}x capture time{}\n", "white-box (anchors)", white.seconds,
               white.peakGiB, white.seconds / cap.seconds, white.ok ? "" : "  FAILED");
    const auto one = measureInChild([&] {
        auto m = Transformer::load(model, {});
        const auto t0 = std::chrono::steady_clock::now();
        m->forward(t.ids);
        return since(t0);
    });
    fmt::print("{:<20} {:8.2f} s {:5.2f} GiB\n", "one plain forward", one.seconds, one.peakGiB);
    const auto supp = measureInChild([&] {
        auto m = Transformer::load(model, {});
        std::vector<std::array<int64_t, 2>> ranges;
        for (const SentenceSpan& s : spans)
            ranges.push_back({s.tokenBegin, s.tokenEnd});
        const auto t0 = std::chrono::steady_clock::now();
        suppressionMatrix(*m, t.ids, ranges);
        return since(t0);
    });
    fmt::print("{:<20} {:8.2f} s {:5.2f} GiB  {:6.3f}x capture time, {} forwards{}\n", "suppression", supp.seconds,
               supp.peakGiB, supp.seconds / cap.seconds, spans.size() + 1, supp.ok ? "" : "  FAILED");
    {
        // In this process, to count the generated tokens: each rollout prefills its own prefix (no KV cache copy).
        auto m = Transformer::load(model, {});
        ResamplingOptions o;
        o.rollouts = 1;
        o.maxNewTokens = 32;
        const AnswerExtractor answers(o.answerRegex);
        const auto t0 = std::chrono::steady_clock::now();
        const ResamplingReport r = runResampling(*m, resamplingTrace(t.text, answers, ""), o);
        const double seconds = since(t0);
        int64_t generated = 0, prefix = 0;
        for (const auto& lengths : r.generatedTokens)
            for (int64_t n : lengths)
                generated += n;
        for (size_t i = 0; i < r.trace.chunks.size(); ++i)
            prefix += int64_t(m->tokenizer().encode(r.trace.prompt + prefixWithoutChunk(r.trace.chunks, i), true).ids.size());
        const auto rollouts = int64_t(r.chunks.size());
        fmt::print("{:<20} {:8.2f} s          {:.3f} s per rollout ({} rollouts, mean prefix {} tokens, {:.1f} new "
                   "tokens, {} embedding forwards)\n",
                   "resampling", seconds, seconds / double(rollouts), rollouts, prefix / std::max<int64_t>(1, rollouts),
                   double(generated) / double(std::max<int64_t>(1, rollouts)), r.embeddingForwards);
    }
    std::filesystem::remove(run);
    return 0;
}

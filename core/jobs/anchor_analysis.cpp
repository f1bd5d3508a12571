#include "jobs/anchor_analysis.hpp"

#include "analysis/receiver_heads.hpp"
#include "analysis/sentence_spans.hpp"
#include "store/run_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace attnscope::core {

namespace {

constexpr int64_t kTopK = 20;

std::vector<SentenceSpan> runSentences(const RunTokens& tokens) {
    std::vector<SentenceSpan> sentences = segmentSentences(tokens.text);
    assignTokenRanges(sentences, tokens.spans);
    return sentences;
}

std::string unavailable(RunReader& run) {
    const RunTokens& tokens = run.tokens();
    if (tokens.spans.size() != tokens.ids.size() || tokens.text.empty())
        return "the run holds no token text to segment into sentences";
    const VerticalOptions o;
    const int64_t n = int64_t(runSentences(tokens).size());
    return n > o.proximityIgnore ? std::string()
                                 : fmt::format("the run's text has {} sentence(s) and vertical scores need at least {}",
                                               n, o.proximityIgnore + 1);
}

AnalysisResult compute(RunReader& run, AttentionSource& source) {
    const VerticalOptions o;
    const SentenceOptions so;
    const std::vector<SentenceSpan> sentences = runSentences(run.tokens());
    const int64_t N = int64_t(sentences.size());
    std::vector<std::array<int64_t, 2>> ranges;
    std::vector<int32_t> bytes, tokens;
    std::vector<std::string> texts;
    for (const SentenceSpan& s : sentences) {
        ranges.push_back({s.tokenBegin, s.tokenEnd});
        bytes.insert(bytes.end(), {int32_t(s.byteBegin), int32_t(s.byteEnd)});
        tokens.insert(tokens.end(), {int32_t(s.tokenBegin), int32_t(s.tokenEnd)});
        texts.push_back(s.text);
    }
    const ReceiverHeadReport rep = receiverHeadReport(source, ranges, o, kTopK);

    AnalysisResult r;
    r.name = "anchors";
    r.source = "methods.md §4.1, §4.5 (docs/methods.md 8.1, 8.2); Bogdan, Macar, Nanda, Conmy, Thought Anchors (2025), "
               "utils.py split_solution_into_chunks, attn_funcs.py, receiver_head_funcs.py";
    r.set("proximity_ignore", o.proximityIgnore).set("control_depth", int64_t(o.controlDepth));
    r.set("score_type", std::string(o.median ? "median" : "mean")).set("top_k", kTopK);
    r.set("emit_remainder", int64_t(so.emitRemainder)).set("min_chars", so.minChars);
    r.add("sentence_text", {N}, texts, "sentence");
    r.add("sentence_bytes", {N, 2}, bytes, "sentence,begin_end");
    r.add("sentence_tokens", {N, 2}, tokens, "sentence,begin_end");
    const int64_t L = rep.matrices.layers, H = rep.matrices.heads;
    r.add("matrix", {L, H, N, N}, rep.matrices.values, "layer,head,sentence,sentence");
    r.add("vertical", {L, H, N}, rep.vertical.values, "layer,head,sentence");
    r.add("kurtosis", {L, H}, rep.kurtosis.values, "layer,head");
    std::vector<int32_t> heads;
    std::vector<double> kurtoses;
    for (const ReceiverHead& h : rep.heads) {
        heads.insert(heads.end(), {int32_t(h.layer), int32_t(h.head)});
        kurtoses.push_back(h.kurtosis);
    }
    const int64_t k = int64_t(rep.heads.size());
    r.add("receiver_heads", {k, 2}, heads, "receiver,layer_head");
    r.add("receiver_kurtosis", {k}, kurtoses, "receiver");
    r.add("broadcast", {N}, rep.broadcast, "sentence");
    return r;
}

// The first bytes of a sentence, cut on a character boundary.
std::string excerpt(const std::string& s, size_t limit = 32) {
    if (s.size() <= limit) return s;
    size_t cut = limit;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80)
        --cut;
    return s.substr(0, cut) + "...";
}

std::string summarize(const AnalysisResult& r, const RunTokens&) {
    const AnalysisDataset* heads = r.dataset("receiver_heads");
    const AnalysisDataset* kurt = r.dataset("receiver_kurtosis");
    const AnalysisDataset* broadcast = r.dataset("broadcast");
    const AnalysisDataset* text = r.dataset("sentence_text");
    if (!heads || !kurt || !broadcast || !text) return "incomplete result";
    const auto h = heads->toDoubles(), k = kurt->toDoubles(), b = broadcast->toDoubles();
    const auto& texts = std::get<std::vector<std::string>>(text->values);
    std::string line = fmt::format("{} sentences; receiver heads (kurtosis):", texts.size());
    for (size_t i = 0; i < std::min<size_t>(3, k.size()); ++i)
        line += fmt::format(" {} {:.2f}", headLabel(int64_t(h[2 * i]), int64_t(h[2 * i + 1])), k[i]);
    std::vector<size_t> order(b.size());
    std::iota(order.begin(), order.end(), 0);
    std::erase_if(order, [&](size_t j) { return std::isnan(b[j]); });
    std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return b[x] > b[y]; });
    line += "; broadcasting:";
    for (size_t i = 0; i < std::min<size_t>(2, order.size()); ++i)
        line += fmt::format(" #{} {:.3g} \"{}\"", order[i], b[order[i]], excerpt(texts[order[i]]));
    return line;
}

} // namespace

AnalysisEntry anchorAnalysisEntry() {
    AnalysisEntry e{"anchors",
                    "Thought Anchors white-box: sentences, sentence x sentence attention, receiver heads, broadcast "
                    "scores (only when named)",
                    unavailable, compute, summarize};
    e.onRequest = true; // its sentences mean something only on a reasoning trace
    return e;
}

} // namespace attnscope::core

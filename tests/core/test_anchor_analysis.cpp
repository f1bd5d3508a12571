// The "anchors" catalog entry on a small run whose text is six sentences: what it stores under /analysis/anchors,
// that the stored numbers are the analysis functions' own, and that analyze runs it only when named.
#include "analysis/receiver_heads.hpp"
#include "core/store/known_run.hpp"
#include "errors.hpp"
#include "jobs/analysis_catalog.hpp"
#include "jobs/analyze_job.hpp"
#include "store/run_reader.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>

#include <algorithm>

using namespace attnscope;

namespace {

// BOS, then six sentences of six tokens (" alpha" ... "."): 37 tokens, as KnownRun's maps.
core::RunTokens sixSentences() {
    core::RunTokens t;
    const char* words[] = {" alpha", " beta", " gamma", " delta", " omega", "."};
    t.ids.push_back(1), t.pieces.push_back("<s>"), t.spans.push_back({0, 0}), t.generated.push_back(0);
    for (int s = 0; s < 6; ++s)
        for (int w = 0; w < 6; ++w) {
            const std::string piece = words[w];
            t.ids.push_back(int32_t(10 + w));
            t.pieces.push_back(piece);
            t.spans.push_back({int64_t(t.text.size()), int64_t(t.text.size() + piece.size())});
            t.text += piece;
            t.generated.push_back(0);
        }
    return t;
}

} // namespace

TEST(AnchorAnalysis, StoresSentencesMatricesAndReceiverHeadsWhenNamed) {
    test::KnownRun known;
    known.tokens = sixSentences();
    ASSERT_EQ(int64_t(known.tokens.ids.size()), known.T);
    const auto run = test::scratchDir("anchors") / "trace.attn.h5";
    known.write(run, known.layout(true, {}));

    const core::AnalyzeReport all = core::analyzeRun({run, {}});
    EXPECT_TRUE(std::none_of(all.results.begin(), all.results.end(), [](const auto& r) { return r.name == "anchors"; }))
        << "anchors runs only when named";

    const core::AnalyzeReport report = core::analyzeRun({run, {"anchors"}});
    ASSERT_EQ(report.results.size(), 1u);
    core::RunReader reader(run);
    const core::AnalysisResult a = reader.analysis("anchors");
    EXPECT_EQ(std::get<std::vector<std::string>>(a.dataset("sentence_text")->values).at(0),
              "alpha beta gamma delta omega.");
    EXPECT_EQ(a.dataset("sentence_tokens")->shape, (std::vector<int64_t>{6, 2}));
    const auto tokens = a.dataset("sentence_tokens")->toDoubles();
    EXPECT_EQ(tokens[0], 1); // after BOS
    EXPECT_EQ(tokens[1], 7);
    EXPECT_EQ(tokens[11], 37);
    EXPECT_EQ(a.dataset("sentence_bytes")->toDoubles()[0], 1); // the leading space is not part of the sentence
    EXPECT_EQ(a.dataset("matrix")->shape, (std::vector<int64_t>{2, 4, 6, 6}));
    EXPECT_EQ(a.dataset("vertical")->shape, (std::vector<int64_t>{2, 4, 6}));
    EXPECT_EQ(std::get<int64_t>(*a.parameter("proximity_ignore")), 4);

    // The stored numbers are the functions' own on the run's maps (float32 and float64 stored exactly).
    core::RunAttention attention(reader);
    std::vector<std::array<int64_t, 2>> ranges;
    for (size_t i = 0; i < 6; ++i)
        ranges.push_back({int64_t(tokens[2 * i]), int64_t(tokens[2 * i + 1])});
    const core::ReceiverHeadReport direct = core::receiverHeadReport(attention, ranges);
    EXPECT_EQ(a.dataset("kurtosis")->toDoubles(), direct.kurtosis.values);
    ASSERT_EQ(a.dataset("receiver_heads")->shape, (std::vector<int64_t>{int64_t(direct.heads.size()), 2}));
    EXPECT_EQ(a.dataset("receiver_heads")->toDoubles().at(0), 1); // layer 0 is never a receiver head
    const auto broadcast = a.dataset("broadcast")->toDoubles();
    for (size_t j = 0; j < 6; ++j)
        EXPECT_TRUE(broadcast[j] == direct.broadcast[j] ||
                    (std::isnan(broadcast[j]) && std::isnan(direct.broadcast[j])));
    const auto& entry = *core::selectAnalyses(std::vector<std::string>{"anchors"}).at(0);
    EXPECT_NE(entry.summarize(a, reader.tokens()).find("6 sentences"), std::string::npos);
}

TEST(AnchorAnalysis, RefusesARunWithTooFewSentences) {
    test::KnownRun known; // its text has no sentence end: one chunk
    const auto run = test::scratchDir("anchors-short") / "short.attn.h5";
    known.write(run, known.layout(true, {}));
    EXPECT_THROW(core::analyzeRun({run, {"anchors"}}), core::UnsupportedError);
}

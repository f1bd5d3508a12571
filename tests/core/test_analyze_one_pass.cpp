// analyze's one pass over the maps: on a real stories260K capture kept without full maps (T = 1100, past the dense
// rollout's limit so that rollout streams too), every streaming analysis computed in the shared pass equals the same
// analysis run alone, and both equal the analysis fed by RunReader::block (the store's own scalar recompute), so the
// faster row recompute (QkRows) changes no number.
#include "analysis/attention_source.hpp"
#include "analysis/qk_rows.hpp"
#include "capture/capture_job.hpp"
#include "jobs/analysis_catalog.hpp"
#include "jobs/analyze_job.hpp"
#include "runtime/transformer.hpp"
#include "store/run_reader.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

using namespace attnscope;

namespace {

constexpr int64_t kTokens = 1100; // > kRolloutMaxTokens (1024): rollout takes its streaming form

const std::filesystem::path& capturedRun() {
    static const std::filesystem::path path = [] {
        auto model = core::Transformer::load(test::stories260KDir() / "stories260K.gguf", {});
        core::CaptureOptions o;
        // A sequence that repeats with period 508, so duplicate-token and induction patterns have matches.
        for (int64_t i = 0; i < kTokens; ++i)
            o.promptIds.push_back(4 + int32_t((i * 131 + 7) % 508));
        o.full = core::FullMaps::Never;
        o.out = test::scratchDir("analyze-one-pass") / "never.attn.h5";
        core::captureRun(*model, o);
        return o.out;
    }();
    return path;
}

// Rows served by RunReader::block: the store's recompute, no QkRows.
class BlockAttention final : public core::AttentionSource {
public:
    explicit BlockAttention(core::RunReader& reader) : m_reader(reader) {}
    int64_t layers() const override { return m_reader.model().nLayers; }
    int64_t heads() const override { return m_reader.model().nHeads; }
    int64_t length() const override { return m_reader.layout().tokens; }
    void rows(int64_t layer, int64_t head, int64_t row0, int64_t count, std::span<float> out) override {
        const int64_t T = length();
        const std::vector<float> block = m_reader.block(layer, head, row0, 0, count, T);
        std::copy(block.begin(), block.end(), out.begin());
    }

private:
    core::RunReader& m_reader;
};

// Same analysis, same datasets, same values. No tolerance: both sides run the same visitors over the same floats in
// the same order, so any difference is a bug, not rounding.
void expectSameResult(const core::AnalysisResult& expected, const core::AnalysisResult& actual,
                      const std::string& what) {
    ASSERT_EQ(expected.name, actual.name) << what;
    ASSERT_EQ(expected.datasets.size(), actual.datasets.size()) << what;
    for (const core::AnalysisDataset& e : expected.datasets) {
        const core::AnalysisDataset* a = actual.dataset(e.name);
        ASSERT_NE(a, nullptr) << what << ": no dataset " << e.name;
        EXPECT_EQ(e.shape, a->shape) << what << "/" << e.name;
        const std::vector<double> ev = e.toDoubles(), av = a->toDoubles();
        ASSERT_EQ(ev.size(), av.size()) << what << "/" << e.name;
        for (size_t i = 0; i < ev.size(); ++i)
            if (!(std::isnan(ev[i]) && std::isnan(av[i])))
                ASSERT_EQ(ev[i], av[i]) << what << "/" << e.name << " at " << i;
    }
}

} // namespace

TEST(AnalyzeOnePass, RecomputedRowsAreTheStoreRecomputeBitForBit) {
    ATTNSCOPE_REQUIRE_SHARED();
    core::RunReader reader(capturedRun());
    core::RunAttention attention(reader);
    const int64_t T = reader.layout().tokens;
    std::vector<float> rows(size_t(128 * T));
    // Heads on both KV heads of a GQA pair, blocks at the start, across a chunk edge and at the end.
    for (auto [layer, head] : {std::pair<int64_t, int64_t>{0, 0}, {2, 3}, {4, 7}})
        for (int64_t row0 : {int64_t(0), int64_t(960), T - 100}) {
            const int64_t count = std::min<int64_t>(128, T - row0);
            attention.rows(layer, head, row0, count, rows);
            const std::vector<float> expected = reader.block(layer, head, row0, 0, count, T);
            for (size_t i = 0; i < expected.size(); ++i)
                ASSERT_EQ(expected[i], rows[i]) << "L" << layer << "H" << head << " cell " << i;
        }
    // One layer's K ([Hkv][d][T]) and one block of Q (plus a row of dot products per thread while rows() runs): the
    // recompute's memory does not grow with T^2.
    core::QkRows qk(reader);
    qk.rows(1, 2, 0, 128, rows);
    const int64_t d = reader.model().headDim;
    EXPECT_EQ(qk.bytesHeld(), size_t((reader.model().nKvHeads * d * T + 128 * d) * 4));
}

TEST(AnalyzeOnePass, OnePassEqualsEachAnalysisAlone) {
    ATTNSCOPE_REQUIRE_SHARED();
    const auto copy = capturedRun().parent_path() / "analyzed.attn.h5";
    std::filesystem::copy_file(capturedRun(), copy, std::filesystem::copy_options::overwrite_existing);
    const core::AnalyzeReport report = core::analyzeRun({copy, {}});

    core::RunReader reader(capturedRun());
    core::RunAttention attention(reader);
    BlockAttention blocks(reader);
    int streamed = 0;
    for (const core::AnalysisEntry& entry : core::analysisCatalog()) {
        if (!entry.stream) continue;
        ++streamed;
        const auto inPass = std::find_if(report.results.begin(), report.results.end(),
                                         [&](const core::AnalysisResult& r) { return r.name == entry.name; });
        ASSERT_NE(inPass, report.results.end()) << entry.name << " missing from analyze";
        expectSameResult(entry.compute(reader, attention), *inPass, entry.name + " (alone vs one pass)");
        expectSameResult(entry.compute(reader, blocks), *inPass, entry.name + " (RunReader::block vs one pass)");
    }
    // previous_token, positional, confidence, head_detector and rollout.
    EXPECT_EQ(streamed, 5);
    const auto rollout = std::find_if(report.results.begin(), report.results.end(),
                                      [](const core::AnalysisResult& r) { return r.name == "rollout"; });
    ASSERT_NE(rollout, report.results.end());
    EXPECT_EQ(rollout->dataset("output_rows")->count(), 1); // the streaming form: the last token's row
}

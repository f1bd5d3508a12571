// Token lists, the reference projects' published head scores (DuoAttention's real TSVs in ../shared, a
// Retrieval_Head JSON written here), and the tables and maps `export` writes.
#include "attention_fixture.hpp"
#include "attention_import.hpp"
#include "errors.hpp"
#include "head_score_import.hpp"
#include "run_export.hpp"
#include "store/analysis_writer.hpp"
#include "support/test_paths.hpp"
#include "token_list.hpp"

namespace attnscope::test {
namespace {

using namespace importers;

std::filesystem::path importFixture(const std::filesystem::path& dir, const AttentionFixture& f, int64_t kvHeads) {
    f.writeTokens(dir / "tokens.txt");
    const std::string bytes = npy({f.L, f.B, f.H, f.T, f.T}, f.p);
    std::ofstream(dir / "att.npy", std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
    AttentionImportRequest r;
    r.inputs = {dir / "att.npy"}, r.tokens = dir / "tokens.txt", r.out = dir / "run.attn.h5", r.kvHeads = kvHeads;
    importAttention(r);
    return r.out;
}

TEST(TokenList, JsonListObjectWithIdsAndLines) {
    const auto dir = scratchDir("token_list");
    std::ofstream(dir / "a.json") << R"(["<s>", "▁the", ",", "▁the"])";
    const core::RunTokens a = readTokenList(dir / "a.json");
    EXPECT_EQ(a.pieces.size(), 4u);
    EXPECT_EQ(a.ids, (std::vector<int32_t>{0, 1, 2, 1}));
    EXPECT_EQ(a.text, "<s>▁the,▁the");
    EXPECT_EQ(a.spans[2], (std::array<int64_t, 2>{int64_t(std::string("<s>▁the").size()), int64_t(std::string("<s>▁the,").size())}));
    std::ofstream(dir / "b.json") << R"({"tokens": ["a", "b"], "ids": [17, 4]})";
    EXPECT_EQ(readTokenList(dir / "b.json").ids, (std::vector<int32_t>{17, 4}));
    std::ofstream(dir / "c.txt") << "x\r\n\ny\n";
    EXPECT_EQ(readTokenList(dir / "c.txt").pieces, (std::vector<std::string>{"x", "", "y"}));
    std::ofstream(dir / "bad.json") << R"({"tokens": ["a", "b"], "ids": [1]})";
    EXPECT_THROW(readTokenList(dir / "bad.json"), core::FormatError);
    std::ofstream(dir / "num.json") << R"(["a", 3])";
    EXPECT_THROW(readTokenList(dir / "num.json"), core::FormatError);
}

TEST(HeadScores, DuoAttentionPublishedGatesWithTheirConfig) {
    ATTNSCOPE_REQUIRE_SHARED();
    const auto tsv = sharedDir() / "data/duo-attention/Mistral-7B-Instruct-v0.2/full_attention_heads.tsv";
    const core::AnalysisResult r = readHeadScores(tsv, HeadScoreKind::DuoTsv, {32, 32, 8}, "duo");
    const core::AnalysisDataset* gate = r.dataset("gate");
    const core::AnalysisDataset* full = r.dataset("full_attention");
    ASSERT_TRUE(gate && full);
    EXPECT_EQ(gate->shape, (std::vector<int64_t>{32, 8}));
    const std::vector<double> g = gate->toDoubles(), flags = full->toDoubles();
    // First line of the published file: -9.58e-05, -1.20e-04, 0.5586, 2.02e-04, 1, 1, 1, 0.7344.
    EXPECT_DOUBLE_EQ(g[0], -9.584426879882812500e-05);
    EXPECT_DOUBLE_EQ(g[2], 5.585937500000000000e-01);
    EXPECT_EQ(std::vector<double>(flags.begin(), flags.begin() + 8), (std::vector<double>{0, 0, 1, 0, 1, 1, 1, 1}));
    // config.json beside it: threshold 0.5, sink 128, recent 256.
    EXPECT_EQ(std::get<double>(*r.parameter("threshold")), 0.5);
    EXPECT_EQ(std::get<int64_t>(*r.parameter("sink_size")), 128);
    EXPECT_EQ(std::get<int64_t>(*r.parameter("recent_size")), 256);
    try {
        readHeadScores(tsv, HeadScoreKind::DuoTsv, {32, 32, 32}, "duo");
        ADD_FAILURE();
    } catch (const core::FormatError& e) {
        EXPECT_NE(std::string(e.what()).find("full_attention_heads.tsv"), std::string::npos);
    }
}

TEST(HeadScores, RetrievalHeadJsonMeansItsLists) {
    const auto dir = scratchDir("retrieval_json");
    std::ofstream(dir / "scores.json") << R"({"1-2": [0.5, 0.0, 0.25], "0-0": [0.0, 0.1], "1-0": []})";
    const core::AnalysisResult r = readHeadScores(dir / "scores.json", HeadScoreKind::RetrievalJson, {2, 3, 3}, "ret");
    const std::vector<double> score = r.dataset("score")->toDoubles(), retrieval = r.dataset("retrieval")->toDoubles();
    EXPECT_DOUBLE_EQ(score[1 * 3 + 2], 0.25);
    EXPECT_DOUBLE_EQ(score[0], 0.05);
    EXPECT_TRUE(std::isnan(score[1])); // not listed
    EXPECT_EQ(retrieval, (std::vector<double>{0, 0, 0, 0, 0, 1}));
    std::ofstream(dir / "outside.json") << R"({"2-0": [1.0]})";
    EXPECT_THROW(readHeadScores(dir / "outside.json", HeadScoreKind::RetrievalJson, {2, 3, 3}, "ret"),
                 core::FormatError);
    std::ofstream(dir / "key.json") << R"({"layer2": [1.0]})";
    EXPECT_THROW(readHeadScores(dir / "key.json", HeadScoreKind::RetrievalJson, {2, 3, 3}, "ret"), core::FormatError);
}

TEST(Export, TablesOfAnImportedRunWithPublishedScores) {
    const auto dir = scratchDir("export_tables");
    const AttentionFixture f(2, 1, 4, 11);
    const auto run = importFixture(dir, f, 2);
    std::ofstream(dir / "gates.tsv") << "0.9\t0.1\n0.2\t0.7\n";
    const core::AnalysisResult duo = readHeadScores(dir / "gates.tsv", HeadScoreKind::DuoTsv, {2, 4, 2}, "duo");
    core::writeAnalyses(run, std::span(&duo, 1));

    core::RunReader reader(run);
    const ExportTable c = classificationTable(reader);
    ASSERT_EQ(c.columns.size(), 4u);
    EXPECT_EQ(c.columns[3].name, "duo.full_attention");
    // [L,Hkv] repeated over each KV group of 2 query heads.
    EXPECT_EQ(c.columns[3].numbers, (std::vector<double>{1, 1, 0, 0, 0, 0, 1, 1}));
    const std::string csv = tableText(c, ExportFormat::Csv);
    EXPECT_EQ(csv.substr(0, csv.find('\n')), "layer,head,kv_head,duo.full_attention");
    EXPECT_NE(csv.find("\n1,3,1,1\n"), std::string::npos);

    const ExportTable m = metricsTable(reader);
    EXPECT_EQ(m.columns[3].name, "stats.entropy_mean");
    EXPECT_EQ(m.columns.back().name, "duo.gate");
    EXPECT_DOUBLE_EQ(m.columns.back().numbers[2], 0.1);
    const std::string npyText = tableText(m, ExportFormat::Npy);
    const ImportedArray back = parseNpy(reinterpret_cast<const uint8_t*>(npyText.data()), npyText.size(), "metrics");
    EXPECT_EQ(back.shape, (std::vector<int64_t>{8, int64_t(m.columns.size())}));

    const ExportTable tokens = tokensTable(reader);
    const std::string json = tableText(tokens, ExportFormat::Json);
    EXPECT_NE(json.find("\"piece\""), std::string::npos);
    EXPECT_NE(json.find("\"tok3\""), std::string::npos);
}

TEST(Export, MapAndTileRangesOfOneHead) {
    const auto dir = scratchDir("export_map");
    const AttentionFixture f(1, 1, 2, 20);
    const auto run = importFixture(dir, f, 0);
    core::RunReader reader(run);
    const ExportMatrix m = exportMatrix(reader, 0, 1, 0, parseCellRange("3:7,2:"));
    EXPECT_EQ(m.rows, 4);
    EXPECT_EQ(m.cols, 18);
    const float want = f.p[size_t((1 * f.T + 5) * f.T + 4)];
    EXPECT_NEAR(m.values[size_t(2 * m.cols + 2)], want, want * 0x1p-11);
    const std::string csv = matrixText(m, ExportFormat::Csv);
    EXPECT_EQ(csv.substr(0, 12), "query,2,3,4,");
    const ExportMatrix tile = exportMatrix(reader, 0, 1, 2, CellRange{}, true);
    EXPECT_EQ(tile.rows, 5);
    EXPECT_EQ(tile.reduce, "max");
    EXPECT_THROW(exportMatrix(reader, 0, 2, 0, CellRange{}), core::ArgumentError);
    EXPECT_THROW(exportMatrix(reader, 0, 0, 0, parseCellRange("0:21,")), core::ArgumentError);
    EXPECT_THROW(parseCellRange("1-2"), core::ArgumentError);
}

} // namespace
} // namespace attnscope::test

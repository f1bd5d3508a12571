// Thought Anchors' published per-sentence results (../shared/data/thought-anchors) imported into a run: chunk count,
// chunk texts, importance values and the step_importance matrix checked against the JSON read by Python's json.
#include "errors.hpp"
#include "importer_thought_anchors.hpp"
#include "store/run_reader.hpp"
#include "support/cli_runner.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using namespace attnscope;

namespace {

fs::path publishedFolder(const std::string& which = "correct_base_solution/problem_6998") {
    return test::sharedDir() / "data/thought-anchors/deepseek-r1-distill-llama-8b" / which;
}

// Python's own reading of the folder: chunk count, then "i text-length accuracy cf_acc rs_kl" lines for a few chunks,
// then "s t value" lines of step_importance.json.
std::string pythonReading(const fs::path& folder) {
    const std::string script = "import json,sys\n"
                               "d=sys.argv[1]\n"
                               "c=json.load(open(d+'/chunks_labeled.json'))\n"
                               "print(len(c))\n"
                               "for i in (0, len(c)//2, len(c)-1):\n"
                               "  x=c[i]; print(i, len(x['chunk'].encode()), repr(x['accuracy']), "
                               "repr(x['counterfactual_importance_accuracy']),"
                               " repr(x['resampling_importance_kl']))\n"
                               "s=json.load(open(d+'/step_importance.json'))\n"
                               "for e in (s[0], s[len(s)//2]):\n"
                               "  for t in e['target_impacts'][:3]: print(e['source_chunk_idx'], "
                               "t['target_chunk_idx'], repr(t['importance_score']))\n";
    const fs::path py = test::scratchDir("ta_py") / "read.py";
    std::ofstream(py) << script;
    const std::string cmd =
        "/usr/bin/python3 " + test::shellQuote(py.string()) + " " + test::shellQuote(folder.string());
    std::string out;
    if (FILE* p = popen(cmd.c_str(), "r")) {
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, p)) > 0)
            out.append(buf, n);
        pclose(p);
    }
    return out;
}

const std::vector<double>& doubles(const core::AnalysisResult& r, const std::string& name) {
    const core::AnalysisDataset* d = r.dataset(name);
    EXPECT_NE(d, nullptr) << name;
    return std::get<std::vector<double>>(d->values);
}

} // namespace

TEST(ThoughtAnchorsImport, PublishedFolderMatchesPythonJson) {
    ATTNSCOPE_REQUIRE_SHARED();
    const fs::path folder = publishedFolder();
    const std::string reading = pythonReading(folder);
    ASSERT_FALSE(reading.empty()) << "/usr/bin/python3 could not read " << folder;

    const fs::path run = test::scratchDir("ta_new") / "published.attn.h5";
    const std::string model = (test::stories260KDir() / "stories260K.gguf").string();
    const test::CliResult r = test::runCli(
        {"import-scores", run.string(), folder.string(), "--kind", "thought-anchors", "--new-run", "--model", model});
    ASSERT_EQ(r.code, 0) << r.err;
    core::RunReader reader(run);
    const core::AnalysisResult a = reader.analysis("anchors_published");
    EXPECT_EQ(reader.model().source, model); // a real model read the published trace

    std::istringstream in(reading);
    int64_t chunks = 0;
    in >> chunks;
    ASSERT_GT(chunks, 0);
    const auto& texts = std::get<std::vector<std::string>>(a.dataset("sentence_text")->values);
    ASSERT_EQ(int64_t(texts.size()), chunks);
    // Our own anchors of the captured trace: our segmentation of the solution gives the published chunks.
    const core::AnalysisResult anchors = reader.analysis("anchors");
    ASSERT_NE(anchors.dataset("sentence_text"), nullptr);
    const auto& ours = std::get<std::vector<std::string>>(anchors.dataset("sentence_text")->values);
    EXPECT_EQ(ours, texts);
    for (int k = 0; k < 3; ++k) {
        int64_t i = 0;
        size_t bytes = 0;
        double acc = 0, cf = 0, rs = 0;
        in >> i >> bytes >> acc >> cf >> rs;
        EXPECT_EQ(texts[size_t(i)].size(), bytes) << "chunk " << i;
        EXPECT_DOUBLE_EQ(doubles(a, "accuracy")[size_t(i)], acc) << "chunk " << i;
        EXPECT_DOUBLE_EQ(doubles(a, "counterfactual_importance_accuracy")[size_t(i)], cf) << "chunk " << i;
        EXPECT_DOUBLE_EQ(doubles(a, "resampling_importance_kl")[size_t(i)], rs) << "chunk " << i;
    }
    const core::AnalysisDataset* m = a.dataset("step_importance");
    ASSERT_NE(m, nullptr);
    ASSERT_EQ(m->shape, (std::vector<int64_t>{chunks, chunks}));
    const std::vector<double> mv = m->toDoubles();
    for (int k = 0; k < 6; ++k) {
        int64_t s = 0, t = 0;
        double v = 0;
        in >> s >> t >> v;
        EXPECT_DOUBLE_EQ(mv[size_t(s * chunks + t)], v) << s << " -> " << t;
    }
    EXPECT_TRUE(std::isnan(mv[0])); // the diagonal is not published

    // Into an existing run too (the one just made), under another name; --new-run refuses an existing file.
    const test::CliResult again =
        test::runCli({"import-scores", run.string(),
                      (publishedFolder("incorrect_base_solution/problem_330") / "chunks_labeled.json").string(),
                      "--kind", "thought-anchors", "--name", "other"});
    ASSERT_EQ(again.code, 0) << again.err;
    EXPECT_EQ(core::RunReader(run).analysis("other").dataset("sentence_text")->count(), 26);
    test::expectOneSentenceError(test::runCli({"import-scores", run.string(), folder.string(), "--kind",
                                               "thought-anchors", "--new-run", "--model", model}),
                                 run.string());
    // Without a model there is nothing to read the trace with.
    const fs::path other = test::scratchDir("ta_new") / "nomodel.attn.h5";
    test::expectOneSentenceError(
        test::runCli({"import-scores", other.string(), folder.string(), "--kind", "thought-anchors", "--new-run"}),
        "--model");
    EXPECT_FALSE(fs::exists(other));
}

TEST(ThoughtAnchorsImport, SentenceBytesPointIntoTheSolution) {
    ATTNSCOPE_REQUIRE_SHARED();
    const core::AnalysisResult a =
        importers::readThoughtAnchors(publishedFolder("incorrect_base_solution/problem_2189"));
    const auto& bytes = std::get<std::vector<int32_t>>(a.dataset("sentence_bytes")->values);
    const auto& texts = std::get<std::vector<std::string>>(a.dataset("sentence_text")->values);
    ASSERT_EQ(bytes.size(), 2 * texts.size());
    for (size_t i = 0; i < texts.size(); ++i) {
        EXPECT_GE(bytes[2 * i], 0) << i;
        EXPECT_EQ(size_t(bytes[2 * i + 1] - bytes[2 * i]), texts[i].size()) << i;
        if (i > 0) EXPECT_GE(bytes[2 * i], bytes[2 * i - 1]) << i;
    }
}

TEST(ThoughtAnchorsImport, MalformedInputIsOneSentenceNamingTheFile) {
    const fs::path dir = test::scratchDir("ta_bad");
    const fs::path run = dir / "x.attn.h5";
    const fs::path notJson = dir / "chunks_labeled.json";
    std::ofstream(notJson) << "[{\"chunk\": \"a\", ";
    test::expectOneSentenceError(
        test::runCli({"import-scores", run.string(), dir.string(), "--kind", "thought-anchors", "--new-run"}),
        notJson.string());
    EXPECT_FALSE(fs::exists(run));

    const fs::path noText = dir / "nochunk.json";
    std::ofstream(noText) << "[{\"chunk_idx\": 0, \"accuracy\": 0.5}]";
    test::expectOneSentenceError(
        test::runCli({"import-scores", run.string(), noText.string(), "--kind", "thought-anchors", "--new-run"}),
        noText.string());

    const fs::path sub = dir / "matrix";
    fs::create_directories(sub);
    std::ofstream(sub / "chunks_labeled.json") << "[{\"chunk\": \"A.\"}, {\"chunk\": \"B.\"}]";
    std::ofstream(sub / "step_importance.json")
        << "[{\"source_chunk_idx\": 0, \"target_impacts\": [{\"target_chunk_idx\": 7, \"importance_score\": 0.1}]}]";
    test::expectOneSentenceError(
        test::runCli({"import-scores", run.string(), sub.string(), "--kind", "thought-anchors", "--new-run"}),
        (sub / "step_importance.json").string());
    EXPECT_THROW(importers::readThoughtAnchors(dir / "missing"), core::FileError);
}

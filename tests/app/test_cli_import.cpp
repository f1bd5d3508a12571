// attnscope-cli import / import-scores / export as a user runs them: dumps written by /usr/bin/python3 numpy, errors
// as one sentence with exit code 2, and exports read back by numpy.
#include "support/cli_runner.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace attnscope::test {
namespace {

bool havePython() { return std::system("/usr/bin/python3 -c 'import h5py, numpy' >/dev/null 2>&1") == 0; }

int python(const std::filesystem::path& dir, const std::string& script) {
    std::ofstream(dir / "script.py") << "import json, sys, numpy as np\nd = sys.argv[1]\n" << script;
    return std::system(("/usr/bin/python3 '" + (dir / "script.py").string() + "' '" + dir.string() + "'").c_str());
}

std::string firstLine(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::string line;
    std::getline(in, line);
    return line;
}

// Seeded causal softmax maps [L, B, H, T, T] like output_attentions stacked, and their tokens.
const char* kDump = R"(
rng = np.random.default_rng(3)
def dump(L, B, H, T):
    s = rng.normal(size=(L, B, H, T, T)) * 2
    s = np.where(np.tril(np.ones((T, T))) > 0, s, -np.inf)
    p = np.exp(s - s.max(-1, keepdims=True))
    return (p / p.sum(-1, keepdims=True)).astype(np.float32)
a = dump(32, 1, 8, 12)
np.savez_compressed(d + '/att.npz', **{'attentions.%d' % l: a[l] for l in range(32)})
np.save(d + '/stack.npy', a)
json.dump(['tok%d' % (i % 4) for i in range(12)], open(d + '/tokens.json', 'w'))
np.save(d + '/rank2.npy', a[0, 0, 0])
bad = a.copy(); bad[3, 0, 1, 7, :] = np.nan; np.save(d + '/nan.npy', bad)
open(d + '/cut.npz', 'wb').write(open(d + '/att.npz', 'rb').read()[:-100])
json.dump(['x'] * 11, open(d + '/short.json', 'w'))
)";

TEST(CliImport, ImportExportAndPublishedScoresRoundTrip) {
    if (!havePython()) GTEST_SKIP() << "/usr/bin/python3 with h5py and numpy is not available (Debian python3-h5py)";
    const auto dir = scratchDir("cli_import");
    ASSERT_EQ(python(dir, kDump), 0);
    const std::string run = (dir / "run.attn.h5").string();
    CliResult r = runCli({"import", (dir / "att.npz").string(), "--tokens", (dir / "tokens.json").string(), "--out",
                          run, "--kv-heads", "8"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("32 layers x 8 heads, 12 tokens"), std::string::npos) << r.out;

    // The map comes back as float32 [T, T] equal to the source within float16 rounding (p * 2^-11).
    r = runCli({"export", run, "--what", "map", "--layer", "5", "--head", "3", "--format", "npy", "--out",
                (dir / "map.npy").string()});
    ASSERT_EQ(r.code, 0) << r.err;
    ASSERT_EQ(python(dir, "m = np.load(d + '/map.npy'); a = np.load(d + '/stack.npy')[5, 0, 3]\n"
                          "assert m.dtype == np.float32 and m.shape == (12, 12), (m.dtype, m.shape)\n"
                          "assert np.all(np.abs(m - a) <= a * 2.0**-11 + 2.0**-25), np.abs(m - a).max()\n"),
              0);

    ATTNSCOPE_REQUIRE_SHARED();
    const auto tsv = sharedDir() / "data/duo-attention/Meta-Llama-3.1-8B-Instruct/full_attention_heads.tsv";
    r = runCli({"import-scores", run, tsv.string(), "--kind", "duo-tsv"});
    ASSERT_EQ(r.code, 0) << r.err;
    r = runCli({"export", run, "--what", "classification", "--format", "csv", "--out", (dir / "c.csv").string()});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(firstLine(dir / "c.csv"), "layer,head,kv_head,duo_attention_published.full_attention");
    r = runCli({"export", run, "--what", "metrics", "--format", "npy", "--out", (dir / "m.npy").string()});
    ASSERT_EQ(r.code, 0) << r.err;
    r = runCli({"export", run, "--what", "metrics", "--format", "csv", "--out", (dir / "m.csv").string()});
    ASSERT_EQ(r.code, 0) << r.err;
    // Row (layer 0, head 2) holds the published gate of KV head 2 in layer 0: 0.96875.
    ASSERT_EQ(python(dir, "m = np.load(d + '/m.npy'); h = open(d + '/m.csv').readline().strip().split(',')\n"
                          "assert m.shape == (256, len(h)), (m.shape, h)\n"
                          "assert h[:5] == ['layer', 'head', 'kv_head', 'stats.entropy_mean', 'stats.first_mass_mean']\n"
                          "g = h.index('duo_attention_published.gate')\n"
                          "assert m[2, 0] == 0 and m[2, 1] == 2 and m[2, g] == 0.96875, m[2]\n"),
              0);
    r = runCli({"export", run, "--what", "tokens", "--format", "csv", "--out", (dir / "t.csv").string()});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(firstLine(dir / "t.csv"), "index,id,piece,begin,end,generated");
}

TEST(CliImport, MalformedInputsGiveOneSentenceNamingTheFile) {
    if (!havePython()) GTEST_SKIP() << "/usr/bin/python3 with h5py and numpy is not available (Debian python3-h5py)";
    const auto dir = scratchDir("cli_import_errors");
    ASSERT_EQ(python(dir, kDump), 0);
    const std::string tokens = (dir / "tokens.json").string(), out = (dir / "bad.attn.h5").string();
    for (const char* file : {"rank2.npy", "nan.npy", "cut.npz", "missing.npz"})
        expectOneSentenceError(runCli({"import", (dir / file).string(), "--tokens", tokens, "--out", out}), file);
    expectOneSentenceError(
        runCli({"import", (dir / "stack.npy").string(), "--tokens", (dir / "short.json").string(), "--out", out}),
        "short.json");
    EXPECT_FALSE(std::filesystem::exists(out));

    const std::string run = (dir / "run.attn.h5").string();
    ASSERT_EQ(runCli({"import", (dir / "stack.npy").string(), "--tokens", tokens, "--out", run}).code, 0);
    // 8 query heads imported without --kv-heads: a 32 x 8 DuoAttention file still matches (8 KV heads = 8 heads),
    // a Retrieval_Head key outside the run does not.
    std::ofstream(dir / "scores.json") << R"({"40-1": [1.0]})";
    expectOneSentenceError(runCli({"import-scores", run, (dir / "scores.json").string(), "--kind", "retrieval-json"}),
                           "scores.json");
    expectOneSentenceError(runCli({"export", run, "--what", "map", "--layer", "40", "--head", "0", "--out",
                                   (dir / "x.csv").string()}),
                           "run.attn.h5");
    expectOneSentenceError(runCli({"export", run, "--what", "classification", "--out", (dir / "x.csv").string()}),
                           "run.attn.h5");
}

} // namespace
} // namespace attnscope::test

// packaging/dump_attention.py's write_run (numpy + h5py, no transformers) writes a run that RunReader opens, with
// the source's maps and the statistics attnscope's import computes.
#include "attention_fixture.hpp"
#include "support/test_paths.hpp"

#include <cstdlib>

namespace attnscope::test {
namespace {

TEST(DumpScript, WriteRunGivesARunEqualToTheSource) {
    if (std::system("/usr/bin/python3 -c 'import h5py, numpy' >/dev/null 2>&1") != 0)
        GTEST_SKIP() << "/usr/bin/python3 with h5py and numpy is not available (Debian python3-h5py)";
    const auto dir = scratchDir("dump_script");
    const AttentionFixture f(2, 1, 3, 21);
    const std::string bytes = npy({f.L, f.H, f.T, f.T}, f.p);
    std::ofstream(dir / "att.npy", std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
    const std::string script = "import sys, numpy as np\n"
                               "sys.path.insert(0, '" + (resourcesDir().parent_path() / "packaging").string() + "')\n"
                               "import dump_attention\n"
                               "d = sys.argv[1]\n"
                               "pieces = ['tok%d' % (i % 5) for i in range(21)]\n"
                               "dump_attention.write_run(d + '/py.attn.h5', np.load(d + '/att.npy'), pieces, "
                               "source='test', n_kv_heads=1)\n";
    std::ofstream(dir / "write.py") << script;
    ASSERT_EQ(std::system(("/usr/bin/python3 '" + (dir / "write.py").string() + "' '" + dir.string() + "'").c_str()), 0);
    core::RunReader run(dir / "py.attn.h5");
    EXPECT_EQ(run.model().nKvHeads, 1);
    EXPECT_EQ(run.tokens().pieces[7], "tok2");
    expectRunEquals(run, f, 0);
    // Entropy of row 20 of layer 1, head 2, from the float32 source.
    const std::vector<float> src = f.layer(1, 0);
    double h = 0.0;
    for (int64_t k = 0; k < f.T; ++k) {
        const double p = src[size_t((2 * f.T + 20) * f.T + k)];
        if (p > 0) h -= p * std::log(p);
    }
    EXPECT_NEAR(run.layerStat("entropy", 1)[size_t(2 * f.T + 20)], h, 1e-5);
}

} // namespace
} // namespace attnscope::test

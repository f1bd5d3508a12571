// Writes the known run and reads every dataset back: identity, tokens, statistics, output, raw float16 bits.
#include "errors.hpp"
#include "known_run.hpp"
#include "store/run_reader.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>

#include <cmath>

using namespace attnscope;
using attnscope::test::KnownRun;

namespace {

class RunRoundTrip : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        s_run = new KnownRun();
        s_path = new std::filesystem::path(test::scratchDir("roundtrip") / "known.attn.h5");
        s_run->write(*s_path, s_run->layout(true, {1, 2}));
    }
    static void TearDownTestSuite() {
        delete s_run;
        delete s_path;
    }
    static KnownRun* s_run;
    static std::filesystem::path* s_path;
};
KnownRun* RunRoundTrip::s_run = nullptr;
std::filesystem::path* RunRoundTrip::s_path = nullptr;

// Reads a whole dataset of float16 as raw bits through the HDF5 C API, with the same half type h5py uses.
std::vector<uint16_t> readHalfBits(const std::filesystem::path& path, const char* name) {
    hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    hid_t space = H5Dget_space(ds);
    std::vector<uint16_t> bits(size_t(H5Sget_simple_extent_npoints(space)));
    hid_t type = H5Dget_type(ds);
    EXPECT_EQ(H5Tget_class(type), H5T_FLOAT);
    EXPECT_EQ(H5Tget_size(type), 2u);
    EXPECT_GE(H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, bits.data()), 0);
    H5Tclose(type), H5Sclose(space), H5Dclose(ds), H5Fclose(file);
    return bits;
}

// float32 in, float32 out with no conversion on the way: bit-identical (NaN never occurs in these arrays).
void expectFloatsEqual(const std::vector<float>& actual, const std::vector<float>& expected, const char* what) {
    ASSERT_EQ(actual.size(), expected.size()) << what;
    for (size_t i = 0; i < actual.size(); ++i)
        ASSERT_EQ(actual[i], expected[i]) << what << " at " << i;
}

} // namespace

TEST_F(RunRoundTrip, IdentityAndLayoutReadBack) {
    core::RunReader reader(*s_path);
    const KnownRun& run = *s_run;
    EXPECT_EQ(reader.path(), *s_path);
    const core::RunModelInfo& m = reader.model();
    EXPECT_EQ(m.architecture, "llama");
    EXPECT_EQ(m.nLayers, run.L);
    EXPECT_EQ(m.nHeads, run.H);
    EXPECT_EQ(m.nKvHeads, run.Hkv);
    EXPECT_EQ(m.headDim, run.d);
    EXPECT_EQ(m.vocabSize, 512);
    EXPECT_EQ(m.source, "tests/known_run");
    EXPECT_EQ(m.weightsSha256, "ab12");
    const core::RunLayout& layout = reader.layout();
    EXPECT_EQ(layout.tokens, run.T);
    EXPECT_TRUE(layout.fullProbs);
    EXPECT_TRUE(layout.qk);
    EXPECT_EQ(layout.pyramidLevels, (std::vector<int>{1, 2}));
    EXPECT_DOUBLE_EQ(layout.scale, run.scale);

    const core::RunSummary s = reader.summary();
    EXPECT_EQ(s.formatVersion, 1);
    EXPECT_EQ(s.producer, std::string("attnscope ") + ATTNSCOPE_VERSION);
    ASSERT_EQ(s.created.size(), 20u) << s.created; // 2024-05-01T12:34:56Z
    EXPECT_EQ(s.created[10], 'T');
    EXPECT_EQ(s.created.back(), 'Z');
    EXPECT_EQ(s.tokens, run.T);
    EXPECT_EQ(s.generatedTokens, 7);
    EXPECT_TRUE(s.fullProbs && s.qk && s.stats && s.output);
    EXPECT_EQ(s.pyramidLevels, (std::vector<int>{1, 2}));
    EXPECT_TRUE(s.analyses.empty());
    EXPECT_EQ(s.fileBytes, std::filesystem::file_size(*s_path));
}

TEST_F(RunRoundTrip, TokensReadBack) {
    core::RunReader reader(*s_path);
    const core::RunTokens& t = reader.tokens();
    EXPECT_EQ(t.ids, s_run->tokens.ids);
    EXPECT_EQ(t.pieces, s_run->tokens.pieces); // UTF-8 pieces ("▁café", "日本") survive byte for byte
    EXPECT_EQ(t.spans, s_run->tokens.spans);
    EXPECT_EQ(t.text, s_run->tokens.text);
    EXPECT_EQ(t.generated, s_run->tokens.generated);
    for (size_t i = 0; i < t.ids.size(); ++i)
        EXPECT_EQ(t.text.substr(size_t(t.spans[i][0]), size_t(t.spans[i][1] - t.spans[i][0])), t.pieces[i]);
}

TEST_F(RunRoundTrip, StatisticsReadBackExactly) {
    core::RunReader reader(*s_path);
    const KnownRun& run = *s_run;
    for (int64_t l = 0; l < run.L; ++l) {
        const core::LayerCapture c = run.capture(l, {});
        expectFloatsEqual(reader.layerStat("received", l), c.received, "received");
        expectFloatsEqual(reader.layerStat("alpha", l), c.alpha, "alpha");
        expectFloatsEqual(reader.layerStat("entropy", l), c.entropy, "entropy");
        expectFloatsEqual(reader.layerStat("first_mass", l), c.firstMass, "first_mass");
        expectFloatsEqual(reader.layerStat("lse", l), c.lse, "lse");
        expectFloatsEqual(reader.valueNorms(l), c.valueNorm, "value_norm");
        EXPECT_EQ(reader.layerTop1(l), c.top1);
    }
    expectFloatsEqual(reader.residualNorms(), run.residual, "residual_norm");
    EXPECT_THROW(reader.layerStat("nonsense", 0), core::ArgumentError);
    EXPECT_THROW(reader.layerStat("alpha", run.L), core::ArgumentError);
}

TEST_F(RunRoundTrip, OutputReadBackWithNaNLoss) {
    core::RunReader reader(*s_path);
    const core::RunOutput out = reader.output();
    ASSERT_EQ(out.loss.size(), size_t(s_run->T));
    for (size_t i = 0; i + 1 < out.loss.size(); ++i)
        EXPECT_EQ(out.loss[i], s_run->output.loss[i]);
    EXPECT_TRUE(std::isnan(out.loss.back()));
    EXPECT_EQ(out.topkIds, s_run->output.topkIds);
    EXPECT_EQ(out.topkProbs, s_run->output.topkProbs);
}

TEST_F(RunRoundTrip, HalfDatasetsAreStoredBitExact) {
    // The writer hands HDF5 the bits with the file's own type, so nothing may be converted on the way.
    const KnownRun& run = *s_run;
    std::vector<uint16_t> q, k, probs, mean2, max1;
    for (int64_t l = 0; l < run.L; ++l) {
        const core::LayerCapture c = run.capture(l, {1, 2});
        q.insert(q.end(), c.q.begin(), c.q.end());
        k.insert(k.end(), c.k.begin(), c.k.end());
        mean2.insert(mean2.end(), c.pyramid[1].mean.begin(), c.pyramid[1].mean.end());
        max1.insert(max1.end(), c.pyramid[0].max.begin(), c.pyramid[0].max.end());
    }
    for (double p : run.probs)
        probs.push_back(core::floatToHalf(float(p)));
    EXPECT_EQ(readHalfBits(*s_path, "/qk/q"), q);
    EXPECT_EQ(readHalfBits(*s_path, "/qk/k"), k);
    EXPECT_EQ(readHalfBits(*s_path, "/attention/probs"), probs);
    EXPECT_EQ(readHalfBits(*s_path, "/attention/pyramid/2"), mean2);
    EXPECT_EQ(readHalfBits(*s_path, "/attention/pyramid_max/1"), max1);
}

TEST_F(RunRoundTrip, FloatHalfTypeConvertsLikeIeeeHalf) {
    // HDF5 converting our half type to native float must agree with halfToFloat: proves the layout is IEEE half.
    hid_t file = H5Fopen(s_path->c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t ds = H5Dopen2(file, "/qk/q", H5P_DEFAULT);
    std::vector<float> values(size_t(s_run->L * s_run->H * s_run->T * s_run->d));
    ASSERT_GE(H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), 0);
    H5Dclose(ds), H5Fclose(file);
    for (size_t i = 0; i < values.size(); ++i)
        ASSERT_EQ(values[i], core::halfToFloat(core::floatToHalf(s_run->q[i]))) << i;
}

TEST_F(RunRoundTrip, RunWithoutQkRefusesLse) {
    const auto path = test::scratchDir("noqk") / "noqk.attn.h5";
    s_run->write(path, s_run->layout(true, {}, false));
    core::RunReader reader(path);
    EXPECT_FALSE(reader.layout().qk);
    EXPECT_FALSE(reader.summary().qk);
    EXPECT_THROW(reader.layerStat("lse", 0), core::UnsupportedError);
    EXPECT_EQ(reader.layerStat("alpha", 1), s_run->capture(1, {}).alpha);
}

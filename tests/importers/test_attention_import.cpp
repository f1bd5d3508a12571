// Attention dumps written here (.npy, stored .npz, safetensors) and by /usr/bin/python3 (deflated .npz, h5py) import
// to runs whose attention equals the source; malformed and mismatched dumps give one sentence naming the file.
#include "attention_fixture.hpp"
#include "attention_import.hpp"
#include "errors.hpp"
#include "model/safetensors.hpp"
#include "support/test_paths.hpp"

#include <cstdlib>

namespace attnscope::test {
namespace {

using importers::AttentionImportRequest;
using importers::importAttention;

AttentionImportRequest request(const std::filesystem::path& dir, std::vector<std::filesystem::path> inputs,
                               int64_t batch = 0) {
    AttentionImportRequest r;
    r.inputs = std::move(inputs);
    r.tokens = dir / "tokens.txt";
    r.out = dir / "run.attn.h5";
    r.batch = batch;
    return r;
}

bool havePython() { return std::system("/usr/bin/python3 -c 'import h5py, numpy' >/dev/null 2>&1") == 0; }

TEST(AttentionImport, StoredNpzOfPerLayerArraysInNaturalOrder) {
    const auto dir = scratchDir("import_npz");
    const AttentionFixture f(3, 2, 4, 37);
    f.writeTokens(dir / "tokens.txt");
    // Entries out of order, with names whose numbers sort wrongly as text, and an integer array that is not attention.
    const std::vector<int64_t> shape = {f.B, f.H, f.T, f.T};
    writeStoredZip(dir / "att.npz", {{"layer_10.npy", npy(shape, f.layerAllBatches(2))},
                                     {"input_ids.npy", importers::npyBytes({1, f.T}, std::vector<double>(size_t(f.T), 3.0),
                                                                           importers::NpyType::Int32)},
                                     {"layer_2.npy", npy(shape, f.layerAllBatches(1))},
                                     {"layer_1.npy", npy(shape, f.layerAllBatches(0))}});
    const auto result = importAttention(request(dir, {dir / "att.npz"}, 1));
    EXPECT_EQ(result.layers, 3);
    ASSERT_EQ(result.skipped.size(), 1u);
    EXPECT_NE(result.skipped[0].find("input_ids"), std::string::npos);
    core::RunReader run(dir / "run.attn.h5");
    expectRunEquals(run, f, 1);
    EXPECT_EQ(run.tokens().pieces[6], "tok1");
    EXPECT_EQ(run.tokens().ids[6], run.tokens().ids[1]); // equal pieces share an id
}

TEST(AttentionImport, NpyFilesOnePerLayerAndPyramidMeansPoolTheSource) {
    const auto dir = scratchDir("import_npy");
    const AttentionFixture f(2, 1, 3, 70);
    f.writeTokens(dir / "tokens.txt");
    std::vector<std::filesystem::path> inputs;
    for (int64_t l = 0; l < f.L; ++l) {
        inputs.push_back(dir / ("l" + std::to_string(l) + ".npy"));
        const std::string bytes = npy({f.H, f.T, f.T}, f.layer(l, 0)); // [H,T,T]: no batch axis
        std::ofstream(inputs.back(), std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
    }
    importAttention(request(dir, inputs));
    core::RunReader run(dir / "run.attn.h5");
    expectRunEquals(run, f, 0);
    // Level 3 (8 x 8 cells, the last partial): mean over the pairs that exist, from the float32 source.
    const int level = 3;
    const int64_t n = core::pyramidSize(f.T, level);
    const std::vector<float> src = f.layer(1, 0);
    const core::Tile tile = run.tile(1, 2, level, 0, 0, n);
    ASSERT_EQ(tile.source, core::TileSource::Pyramid);
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < n; ++j) {
            double sum = 0.0;
            int64_t pairs = 0;
            for (int64_t q = i * 8; q < std::min(f.T, i * 8 + 8); ++q)
                for (int64_t k = j * 8; k < std::min(f.T, j * 8 + 8); ++k, ++pairs)
                    sum += src[size_t((2 * f.T + q) * f.T + k)];
            const double want = sum / double(pairs);
            EXPECT_NEAR(tile.values[size_t(i * n + j)], want, want * 0x1p-11 + 0x1p-25) << i << "," << j;
        }
}

TEST(AttentionImport, SafetensorsPerLayerFloat32AndStackedFloat16) {
    const auto dir = scratchDir("import_safetensors");
    const AttentionFixture f(3, 2, 2, 19);
    f.writeTokens(dir / "tokens.txt");
    std::vector<std::vector<float>> layers;
    std::vector<core::TensorToWrite> tensors;
    for (int64_t l = 0; l < f.L; ++l)
        layers.push_back(f.layerAllBatches(l));
    for (int64_t l = 0; l < f.L; ++l)
        tensors.push_back({"attentions." + std::to_string(l), core::DType::F32, {f.B, f.H, f.T, f.T}, layers[l].data()});
    core::writeSafetensors(dir / "att.safetensors", tensors);
    importAttention(request(dir, {dir / "att.safetensors"}, 1));
    core::RunReader run(dir / "run.attn.h5");
    expectRunEquals(run, f, 1);

    // A float16 dump holds float16 values: rounded once more to float16 they are the same, so the run holds them
    // exactly.
    AttentionFixture half = f;
    std::vector<uint16_t> bits;
    for (float& v : half.p)
        v = core::halfToFloat(core::floatToHalf(v)), bits.push_back(core::floatToHalf(v));
    core::writeSafetensors(dir / "stack.safetensors",
                           {{"attentions", core::DType::F16, {f.L, f.B, f.H, f.T, f.T}, bits.data()}});
    auto r = request(dir, {dir / "stack.safetensors"}, 0);
    r.out = dir / "half.attn.h5";
    importAttention(r);
    core::RunReader halfRun(dir / "half.attn.h5");
    expectRunEquals(halfRun, half, 0);
    EXPECT_EQ(halfRun.tile(2, 1, 0, 0, 0, f.T).values[size_t(5 * f.T + 3)], half.layer(2, 0)[size_t((f.T + 5) * f.T + 3)]);
}

TEST(AttentionImport, DeflatedNpzAndH5pyFileFromPython) {
    if (!havePython()) GTEST_SKIP() << "/usr/bin/python3 with h5py and numpy is not available (Debian python3-h5py)";
    const auto dir = scratchDir("import_python");
    const AttentionFixture f(2, 2, 3, 29);
    f.writeTokens(dir / "tokens.txt");
    const std::string bytes = npy({f.L, f.B, f.H, f.T, f.T}, f.p);
    std::ofstream(dir / "stack.npy", std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
    const std::string script =
        "import sys, numpy as np, h5py\n"
        "d = sys.argv[1]\n"
        "a = np.load(d + '/stack.npy')\n"
        "np.savez_compressed(d + '/att.npz', **{'attentions.%d' % l: a[l] for l in range(a.shape[0])})\n"
        "with h5py.File(d + '/att.h5', 'w') as f:\n"
        "    f.create_dataset('attentions', data=a.astype(np.float16), compression='gzip')\n"
        "    f.create_dataset('input_ids', data=np.arange(a.shape[-1])[None])\n";
    std::ofstream(dir / "write.py") << script;
    ASSERT_EQ(std::system(("/usr/bin/python3 " + (dir / "write.py").string() + " " + dir.string()).c_str()), 0);

    importAttention(request(dir, {dir / "att.npz"}, 1));
    core::RunReader npzRun(dir / "run.attn.h5");
    expectRunEquals(npzRun, f, 1);

    AttentionFixture half = f;
    for (float& v : half.p)
        v = core::halfToFloat(core::floatToHalf(v));
    auto r = request(dir, {dir / "att.h5"}, 1);
    r.out = dir / "h5.attn.h5";
    importAttention(r);
    core::RunReader h5Run(dir / "h5.attn.h5");
    expectRunEquals(h5Run, half, 1);
}

// The error is one sentence (one line, ending in '.') naming `file`, and no run is left.
template <typename E> void expectImportError(const AttentionImportRequest& r, const std::string& file) {
    try {
        importAttention(r);
        ADD_FAILURE() << "no error for " << file;
    } catch (const E& e) {
        const std::string m = e.what();
        EXPECT_NE(m.find(file), std::string::npos) << m;
        EXPECT_EQ(m.find('\n'), std::string::npos) << m;
        EXPECT_EQ(m.back(), '.') << m;
    }
    EXPECT_FALSE(std::filesystem::exists(r.out));
}

void writeFile(const std::filesystem::path& p, const std::string& bytes) {
    std::ofstream(p, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

TEST(AttentionImport, MalformedAndMismatchedInputsNameTheFile) {
    const auto dir = scratchDir("import_errors");
    const AttentionFixture f(1, 1, 2, 9);
    f.writeTokens(dir / "tokens.txt");
    const std::string good = npy({1, f.H, f.T, f.T}, f.p);

    writeFile(dir / "rank2.npy", npy({f.T, f.T}, f.layer(0, 0)));
    expectImportError<core::FormatError>(request(dir, {dir / "rank2.npy"}), "rank2.npy");
    writeFile(dir / "rank6.npy", npy({1, 1, 1, f.H, f.T, f.T}, f.p));
    expectImportError<core::FormatError>(request(dir, {dir / "rank6.npy"}), "rank6.npy");

    AttentionFixture longer(1, 1, 2, 10);
    writeFile(dir / "t10.npy", npy({1, 2, 10, 10}, longer.p));
    expectImportError<core::FormatError>(request(dir, {dir / "t10.npy"}), "tokens.txt");

    AttentionFixture nan = f;
    nan.at(1, 4, 2) = std::nanf("");
    writeFile(dir / "nan.npy", npy({1, f.H, f.T, f.T}, nan.p));
    expectImportError<core::FormatError>(request(dir, {dir / "nan.npy"}), "nan.npy");

    AttentionFixture open = f;
    open.at(0, 2, 5) = 0.25f;
    writeFile(dir / "bidirectional.npy", npy({1, f.H, f.T, f.T}, open.p));
    expectImportError<core::UnsupportedError>(request(dir, {dir / "bidirectional.npy"}), "bidirectional.npy");

    AttentionFixture scores = f;
    scores.at(1, 3, 0) += 0.5f;
    writeFile(dir / "scores.npy", npy({1, f.H, f.T, f.T}, scores.p));
    expectImportError<core::FormatError>(request(dir, {dir / "scores.npy"}), "scores.npy");

    writeFile(dir / "short.npy", good.substr(0, good.size() - 7));
    expectImportError<core::FormatError>(request(dir, {dir / "short.npy"}), "short.npy");

    writeStoredZip(dir / "full.npz", {{"a.npy", good}});
    std::ifstream in(dir / "full.npz", std::ios::binary);
    const std::string zip((std::istreambuf_iterator<char>(in)), {});
    writeFile(dir / "cut.npz", zip.substr(0, zip.size() / 2));
    expectImportError<core::FormatError>(request(dir, {dir / "cut.npz"}), "cut.npz");
    std::string flipped = zip;
    flipped[200] = char(flipped[200] ^ 0x40); // inside the stored array: the CRC catches it
    writeFile(dir / "flipped.npz", flipped);
    expectImportError<core::FormatError>(request(dir, {dir / "flipped.npz"}), "flipped.npz");

    expectImportError<core::FileError>(request(dir, {dir / "missing.npz"}), "missing.npz");
    auto noTokens = request(dir, {dir / "rank2.npy"});
    writeFile(dir / "ok.npy", good);
    noTokens.inputs = {dir / "ok.npy"};
    noTokens.tokens = dir / "missing-tokens.json";
    expectImportError<core::FileError>(noTokens, "missing-tokens.json");
    expectImportError<core::ArgumentError>(request(dir, {dir / "ok.npy"}, 3), "ok.npy");
    writeFile(dir / "notes.txt", "just some text\n");
    expectImportError<core::UnsupportedError>(request(dir, {dir / "notes.txt"}), "notes.txt");
}

} // namespace
} // namespace attnscope::test

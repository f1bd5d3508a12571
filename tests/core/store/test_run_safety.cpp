// Failure paths of the run file: interrupted writes leave nothing behind; broken, foreign, newer and missing files
// give the typed error naming the file, never a crash.
#include "errors.hpp"
#include "known_run.hpp"
#include "store/run_reader.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>

#include <fstream>
#include <random>

using namespace attnscope;
using attnscope::test::KnownRun;

namespace {

const KnownRun& knownRun() {
    static const KnownRun run;
    return run;
}

std::filesystem::path writeGoodRun(const std::string& tag) {
    auto path = test::scratchDir(tag) / "good.attn.h5";
    knownRun().write(path, knownRun().layout(true, {2}));
    return path;
}

// Opens `path` and expects the error type E whose message names the file (and `mentions`, when given).
template <typename E> void expectOpenError(const std::filesystem::path& path, const std::string& mentions = {}) {
    try {
        core::RunReader reader(path);
        ADD_FAILURE() << "opening " << path << " succeeded";
    } catch (const E& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find(path.string()), std::string::npos) << message;
        EXPECT_NE(message.find(mentions), std::string::npos) << message;
        EXPECT_EQ(message.back(), '.') << message;
    } catch (const std::exception& e) {
        ADD_FAILURE() << "wrong error type: " << e.what();
    }
}

void writeBytes(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

} // namespace

TEST(RunWriterSafety, WriterDestroyedWithoutCommitLeavesNoFile) {
    const auto path = test::scratchDir("uncommitted") / "run.attn.h5";
    const KnownRun& run = knownRun();
    {
        core::RunWriter writer(path, run.model, run.tokens, run.layout(false, {2}));
        EXPECT_TRUE(std::filesystem::exists(writer.temporaryPath()));
        EXPECT_EQ(writer.temporaryPath(), core::runTemporaryPath(path));
        writer.writeLayer(0, run.capture(0, {2}));
        EXPECT_FALSE(std::filesystem::exists(path)); // nothing under the final name while writing
    }
    EXPECT_FALSE(std::filesystem::exists(path));
    EXPECT_FALSE(std::filesystem::exists(core::runTemporaryPath(path)));
    EXPECT_TRUE(std::filesystem::is_empty(path.parent_path()));
}

TEST(RunWriterSafety, CommitRefusesMissingLayersAndRowsThenCleansUp) {
    const auto path = test::scratchDir("incomplete") / "run.attn.h5";
    const KnownRun& run = knownRun();
    {
        core::RunWriter writer(path, run.model, run.tokens, run.layout(false, {}));
        writer.writeLayer(0, run.capture(0, {}));
        EXPECT_THROW(writer.commit(), core::ArgumentError);
    }
    {
        core::RunWriter writer(path, run.model, run.tokens, run.layout(true, {}));
        writer.writeLayer(0, run.capture(0, {}));
        writer.writeLayer(1, run.capture(1, {}));
        EXPECT_THROW(writer.commit(), core::ArgumentError); // full maps never written
    }
    EXPECT_TRUE(std::filesystem::is_empty(path.parent_path()));
}

TEST(RunWriterSafety, BadArgumentsThrowAndLeaveNoFile) {
    const auto path = test::scratchDir("badargs") / "run.attn.h5";
    const KnownRun& run = knownRun();
    core::RunTokens shortTokens = run.tokens;
    shortTokens.ids.pop_back();
    EXPECT_THROW(core::RunWriter(path, run.model, shortTokens, run.layout(false, {})), core::ArgumentError);
    core::RunWriter writer(path, run.model, run.tokens, run.layout(false, {1}));
    core::LayerCapture c = run.capture(0, {1});
    c.alpha.pop_back();
    EXPECT_THROW(writer.writeLayer(0, c), core::ArgumentError);
    EXPECT_THROW(writer.writeLayer(0, run.capture(0, {})), core::ArgumentError); // pyramid level 1 missing
    EXPECT_THROW(writer.writeProbRows(0, 0, 1, nullptr), core::ArgumentError);   // layout has no full maps
    EXPECT_THROW(core::RunWriter(path.parent_path() / "no" / "such" / "dir.attn.h5", run.model, run.tokens,
                                 run.layout(false, {})),
                 core::FileError);
}

TEST(RunWriterSafety, StaleTemporaryIsReplacedAndCommitReplacesTheOldRun) {
    const auto path = test::scratchDir("replace") / "run.attn.h5";
    writeBytes(core::runTemporaryPath(path), "left by a crashed capture with our pid");
    writeBytes(path, "an older run");
    knownRun().write(path, knownRun().layout(false, {}));
    EXPECT_FALSE(std::filesystem::exists(core::runTemporaryPath(path)));
    core::RunReader reader(path);
    EXPECT_EQ(reader.layout().tokens, knownRun().T);
}

TEST(RunWriterSafety, SecondWriterToTheSameNameIsRefused) {
    const auto path = test::scratchDir("twice") / "run.attn.h5";
    const KnownRun& run = knownRun();
    core::RunWriter first(path, run.model, run.tokens, run.layout(false, {}));
    EXPECT_THROW(core::RunWriter(path, run.model, run.tokens, run.layout(false, {})), core::ArgumentError);
    EXPECT_TRUE(std::filesystem::exists(first.temporaryPath())); // the refused writer did not remove it
}

TEST(RunReaderSafety, MissingPathIsAFileError) {
    expectOpenError<core::FileError>(test::scratchDir("missing") / "nothing.attn.h5", "does not exist");
}

TEST(RunReaderSafety, TruncatedFileIsAFormatError) {
    const auto good = writeGoodRun("truncated");
    const auto bytes = test::readBinary<char>(good);
    const auto half = good.parent_path() / "half.attn.h5";
    writeBytes(half, bytes.substr(0, bytes.size() / 2));
    expectOpenError<core::FormatError>(half, "truncated");
}

TEST(RunReaderSafety, RandomBytesAreAFormatError) {
    const auto path = test::scratchDir("random") / "random.attn.h5";
    std::mt19937 rng(7);
    std::string bytes(100000, '\0');
    for (char& c : bytes)
        c = char(rng());
    writeBytes(path, bytes);
    expectOpenError<core::FormatError>(path, "not an HDF5 file");
}

TEST(RunReaderSafety, NewerFormatVersionIsUnsupported) {
    const auto path = writeGoodRun("newer");
    hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t attr = H5Aopen(file, "format_version", H5P_DEFAULT);
    const int64_t two = 2;
    ASSERT_GE(H5Awrite(attr, H5T_NATIVE_INT64, &two), 0);
    H5Aclose(attr), H5Fclose(file);
    expectOpenError<core::UnsupportedError>(path,
                                            "was written by a newer attnscope (format_version 2; this build reads 1).");
}

TEST(RunReaderSafety, ForeignHdf5FileIsAFormatError) {
    const auto path = test::scratchDir("foreign") / "weights.h5";
    hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const hsize_t dims[1] = {4};
    hid_t space = H5Screate_simple(1, dims, nullptr);
    hid_t ds = H5Dcreate2(file, "/weights", H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(ds), H5Sclose(space), H5Fclose(file);
    expectOpenError<core::FormatError>(path, "not an attnscope run");
}

TEST(RunReaderSafety, MissingOrMisshapenDatasetIsNamed) {
    const auto missing = writeGoodRun("missing_ds");
    hid_t file = H5Fopen(missing.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(H5Ldelete(file, "/tokens/pieces", H5P_DEFAULT), 0);
    H5Fclose(file);
    expectOpenError<core::FormatError>(missing, "dataset /tokens/pieces is missing");

    const auto misshapen = writeGoodRun("misshapen");
    file = H5Fopen(misshapen.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(H5Ldelete(file, "/stats/alpha", H5P_DEFAULT), 0);
    const hsize_t dims[3] = {2, 4, 36};
    hid_t space = H5Screate_simple(3, dims, nullptr);
    hid_t ds = H5Dcreate2(file, "/stats/alpha", H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(ds), H5Sclose(space), H5Fclose(file);
    expectOpenError<core::FormatError>(misshapen, "/stats/alpha has shape [2,4,36] where [2,4,37] was expected");
}

TEST(RunReaderSafety, CorruptedChunkIsAFormatErrorOnRead) {
    // Scramble the compressed bytes of one chunk of /attention/probs: the file opens, and reading that tile fails.
    const auto path = writeGoodRun("corrupt_chunk");
    hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t ds = H5Dopen2(file, "/attention/probs", H5P_DEFAULT);
    const hsize_t coord[4] = {1, 2, 0, 0};
    unsigned mask = 0;
    haddr_t address = 0;
    hsize_t size = 0;
    ASSERT_GE(H5Dget_chunk_info_by_coord(ds, coord, &mask, &address, &size), 0);
    H5Dclose(ds), H5Fclose(file);
    {
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(std::streamoff(address));
        const std::string garbage(size_t(size), '\x5a');
        f.write(garbage.data(), std::streamsize(garbage.size()));
    }
    core::RunReader reader(path);
    EXPECT_NO_THROW(reader.tile(1, 1, 0, 0, 0, 64)); // other chunks are intact
    try {
        reader.tile(1, 2, 0, 0, 0, 64);
        ADD_FAILURE() << "reading a scrambled chunk succeeded";
    } catch (const core::FormatError& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find(path.string()), std::string::npos) << message;
        EXPECT_NE(message.find("/attention/probs"), std::string::npos) << message;
    }
}

TEST(RunReaderSafety, TruncationAtAnyLengthIsAFormatError) {
    // HDF5 compares the file's length with the end address in its superblock: every cut is caught at open.
    const auto good = writeGoodRun("cuts");
    const auto bytes = test::readBinary<char>(good);
    for (size_t cut :
         {size_t(0), size_t(7), size_t(100), size_t(2048), bytes.size() / 3, bytes.size() * 9 / 10, bytes.size() - 1}) {
        const auto path = good.parent_path() / ("cut" + std::to_string(cut) + ".attn.h5");
        writeBytes(path, bytes.substr(0, cut));
        SCOPED_TRACE(cut);
        expectOpenError<core::FormatError>(path, "Cannot open run file");
    }
}

TEST(RunReaderSafety, FlippedBytesGiveTypedErrorsNeverACrash) {
    // Metadata carries checksums (1.10 format), chunks carry Fletcher-32, and the variable-length heap is checked
    // before HDF5 reads it; an exhaustive single-byte sweep found no crash, this samples 500 positions of it.
    const auto good = writeGoodRun("flips");
    const auto bytes = test::readBinary<char>(good);
    const auto path = good.parent_path() / "flipped.attn.h5";
    int rejected = 0;
    for (size_t pos = 0; pos < bytes.size(); pos += bytes.size() / 500 + 1) {
        std::string damaged = bytes;
        damaged[pos] = char(~damaged[pos]);
        writeBytes(path, damaged);
        try {
            core::RunReader reader(path);
            for (int64_t l = 0; l < knownRun().L; ++l) {
                for (int64_t h = 0; h < knownRun().H; ++h)
                    for (int level : {0, 1, 2, 3})
                        reader.tile(l, h, level, 0, 0, 64);
                reader.layerStat("entropy", l), reader.layerStat("lse", l), reader.layerTop1(l);
            }
            reader.output(), reader.residualNorms(), reader.summary();
        } catch (const core::Error&) {
            ++rejected;
        }
    }
    EXPECT_GT(rejected, 100);
}

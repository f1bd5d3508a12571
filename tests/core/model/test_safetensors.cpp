// safetensors: write -> read round trip (F32/F16/BF16, metadata, atomic write), sharded index, and bad inputs.
#include "errors.hpp"
#include "model/safetensors.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>

using namespace attnscope::core;
namespace fs = std::filesystem;

namespace {

template <typename E, typename Fn> void expectThrowNaming(Fn fn, const fs::path& file) {
    try {
        fn();
        ADD_FAILURE() << "no exception for " << file;
    } catch (const E& e) {
        EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
    } catch (const std::exception& e) {
        ADD_FAILURE() << "wrong exception type: " << e.what();
    }
}

// A safetensors file from a header given as JSON text and `dataBytes` zero bytes of data.
fs::path writeRaw(const fs::path& file, const std::string& header, size_t dataBytes, uint64_t claimedLength = 0) {
    const uint64_t len = claimedLength ? claimedLength : header.size();
    std::ofstream out(file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(&len), 8);
    out << header << std::string(dataBytes, '\0');
    return file;
}

std::vector<fs::path> filesIn(const fs::path& dir) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir))
        out.push_back(e.path().filename());
    return out;
}

} // namespace

TEST(Safetensors, WriteReadRoundTrip) {
    const auto dir = attnscope::test::scratchDir("st");
    const std::vector<float> f32 = {1.5f, -2.0f, 3.25f, 0.0f, 1e-3f, 7.0f};
    std::vector<uint16_t> f16, bf16;
    for (float v : f32) {
        f16.push_back(floatToHalf(v));
        bf16.push_back(floatToBf16(v));
    }
    // Given out of name order: the file must still list them (and lay them out) by name.
    const std::vector<TensorToWrite> tensors = {{"z.f32", DType::F32, {2, 3}, f32.data()},
                                                {"a.f16", DType::F16, {6}, f16.data()},
                                                {"m.bf16", DType::BF16, {3, 1, 2}, bf16.data()}};
    const auto file = dir / "model.safetensors";
    writeSafetensors(file, tensors, {{"format", "pt"}, {"note", "round trip"}});
    EXPECT_EQ(filesIn(dir), std::vector<fs::path>{"model.safetensors"}); // no temporary left behind

    std::map<std::string, std::string> metadata;
    const TensorSet read = readSafetensors(file, &metadata);
    EXPECT_EQ(metadata, (std::map<std::string, std::string>{{"format", "pt"}, {"note", "round trip"}}));
    ASSERT_EQ(read.size(), 3u);
    EXPECT_EQ(read.at("z.f32").shape, (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(read.at("m.bf16").shape, (std::vector<int64_t>{3, 1, 2}));
    EXPECT_EQ(read.at("a.f16").dtype, DType::F16);
    EXPECT_EQ(read.at("z.f32").file, file.string());
    EXPECT_EQ(toFloat32(read.at("z.f32")), f32);
    const auto halfBack = toFloat32(read.at("a.f16"));
    const auto bfBack = toFloat32(read.at("m.bf16"));
    for (size_t i = 0; i < f32.size(); ++i) {
        EXPECT_EQ(halfBack[i], halfToFloat(f16[i]));
        EXPECT_EQ(bfBack[i], bf16ToFloat(bf16[i]));
    }
    // Header length is a multiple of 8 and data follows in name order: a.f16, m.bf16, z.f32.
    const auto bytes = attnscope::test::readBinary<char>(file);
    uint64_t headerLen;
    std::memcpy(&headerLen, bytes.data(), 8);
    EXPECT_EQ(headerLen % 8, 0u);
    EXPECT_EQ(read.at("a.f16").data, read.at("m.bf16").data - 12);
    EXPECT_EQ(read.at("z.f32").data, read.at("m.bf16").data + 12);
    EXPECT_EQ(bytes.size(), 8 + headerLen + 12 + 12 + 24);
}

TEST(Safetensors, FailedWritesLeaveNoFileUnderTheFinalName) {
    const auto dir = attnscope::test::scratchDir("st");
    const std::vector<float> v(4, 1.0f);
    // Invalid input: nothing is written at all.
    EXPECT_THROW(writeSafetensors(dir / "a.safetensors", {{"w", DType::F32, {4}, nullptr}}), ArgumentError);
    EXPECT_THROW(
        writeSafetensors(dir / "b.safetensors", {{"w", DType::F32, {4}, v.data()}, {"w", DType::F32, {4}, v.data()}}),
        ArgumentError);
    EXPECT_TRUE(filesIn(dir).empty());
    // The rename fails (the final name is a non-empty directory): the complete temporary is removed.
    fs::create_directories(dir / "c.safetensors" / "inside");
    expectThrowNaming<FileError>(
        [&] {
            writeSafetensors(dir / "c.safetensors", {{"w", DType::F32, {4}, v.data()}});
        },
        dir / "c.safetensors");
    EXPECT_EQ(filesIn(dir), std::vector<fs::path>{"c.safetensors"});
    EXPECT_TRUE(fs::is_directory(dir / "c.safetensors"));
    // The folder does not exist: creating the temporary fails.
    EXPECT_THROW(writeSafetensors(dir / "missing" / "d.safetensors", {{"w", DType::F32, {4}, v.data()}}), FileError);
}

TEST(Safetensors, ShardedIndexMapsEachShardOnce) {
    const auto dir = attnscope::test::scratchDir("st");
    const std::vector<float> a = {1, 2}, b = {3, 4, 5}, c = {6};
    writeSafetensors(dir / "model-00001-of-00002.safetensors",
                     {{"x.a", DType::F32, {2}, a.data()}, {"x.b", DType::F32, {3}, b.data()}});
    writeSafetensors(dir / "model-00002-of-00002.safetensors", {{"x.c", DType::F32, {1}, c.data()}});
    nlohmann::json index = {{"metadata", {{"total_size", 24}}},
                            {"weight_map",
                             {{"x.a", "model-00001-of-00002.safetensors"},
                              {"x.b", "model-00001-of-00002.safetensors"},
                              {"x.c", "model-00002-of-00002.safetensors"}}}};
    std::ofstream(dir / "model.safetensors.index.json") << index.dump(2);
    const TensorSet t = readSafetensorsIndex(dir / "model.safetensors.index.json");
    ASSERT_EQ(t.size(), 3u);
    EXPECT_EQ(toFloat32(t.at("x.b")), b);
    EXPECT_EQ(toFloat32(t.at("x.c")), c);
    EXPECT_EQ(t.at("x.a").owner, t.at("x.b").owner); // one mapping per shard
    EXPECT_NE(t.at("x.a").owner, t.at("x.c").owner);
    EXPECT_EQ(t.at("x.c").file, (dir / "model-00002-of-00002.safetensors").string());

    index["weight_map"]["x.d"] = "model-00003-of-00002.safetensors";
    std::ofstream(dir / "broken.index.json") << index.dump();
    expectThrowNaming<FileError>([&] { readSafetensorsIndex(dir / "broken.index.json"); }, dir / "broken.index.json");
}

TEST(SafetensorsBadInput, TruncatedHeader) {
    const auto dir = attnscope::test::scratchDir("st");
    const auto tiny = dir / "tiny.safetensors";
    std::ofstream(tiny, std::ios::binary) << "abc";
    expectThrowNaming<FormatError>([&] { readSafetensors(tiny); }, tiny);
    // The header is cut in the middle of its JSON.
    const auto cut = writeRaw(dir / "cut.safetensors", R"({"w":{"dtype":"F32","sh)", 0);
    expectThrowNaming<FormatError>([&] { readSafetensors(cut); }, cut);
}

TEST(SafetensorsBadInput, TruncatedData) {
    const auto file = writeRaw(attnscope::test::scratchDir("st") / "data.safetensors",
                               R"({"w":{"dtype":"F32","shape":[4,4],"data_offsets":[0,64]}})", 40);
    try {
        readSafetensors(file);
        FAIL() << "a truncated file was accepted";
    } catch (const FormatError& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
        EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
        EXPECT_NE(msg.find("'w'"), std::string::npos) << msg;
    }
}

TEST(SafetensorsBadInput, CorruptedHeaderJson) {
    const auto dir = attnscope::test::scratchDir("st");
    const auto junk = writeRaw(dir / "junk.safetensors", "{not json at all}", 8);
    expectThrowNaming<FormatError>([&] { readSafetensors(junk); }, junk);
    const auto array = writeRaw(dir / "array.safetensors", "[1, 2, 3]", 8);
    expectThrowNaming<FormatError>([&] { readSafetensors(array); }, array);
    const auto noDtype = writeRaw(dir / "nodtype.safetensors", R"({"w":{"shape":[1],"data_offsets":[0,4]}})", 4);
    expectThrowNaming<FormatError>([&] { readSafetensors(noDtype); }, noDtype);
}

TEST(SafetensorsBadInput, HeaderLengthLargerThanTheFile) {
    const auto file = writeRaw(attnscope::test::scratchDir("st") / "len.safetensors", "{}", 0, uint64_t{1} << 40);
    expectThrowNaming<FormatError>([&] { readSafetensors(file); }, file);
}

TEST(SafetensorsBadInput, OffsetsOutOfRange) {
    const auto dir = attnscope::test::scratchDir("st");
    const auto reversed =
        writeRaw(dir / "rev.safetensors", R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", 8);
    expectThrowNaming<FormatError>([&] { readSafetensors(reversed); }, reversed);
    const auto negative =
        writeRaw(dir / "neg.safetensors", R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})", 8);
    expectThrowNaming<FormatError>([&] { readSafetensors(negative); }, negative);
    const auto far =
        writeRaw(dir / "far.safetensors",
                 R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[18446744073709551610,18446744073709551614]}})", 8);
    expectThrowNaming<FormatError>([&] { readSafetensors(far); }, far);
}

TEST(SafetensorsBadInput, ShapeTimesDtypeDiffersFromByteLength) {
    const auto file = writeRaw(attnscope::test::scratchDir("st") / "shape.safetensors",
                               R"({"w":{"dtype":"F16","shape":[3,3],"data_offsets":[0,36]}})", 36);
    expectThrowNaming<FormatError>([&] { readSafetensors(file); }, file);
}

TEST(SafetensorsBadInput, UnsupportedDtype) {
    const auto file = writeRaw(attnscope::test::scratchDir("st") / "i8.safetensors",
                               R"({"q":{"dtype":"I8","shape":[4],"data_offsets":[0,4]}})", 4);
    try {
        readSafetensors(file);
        FAIL() << "an I8 tensor was accepted";
    } catch (const UnsupportedError& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
        EXPECT_NE(msg.find("'q'"), std::string::npos) << msg;
        EXPECT_NE(msg.find("I8"), std::string::npos) << msg;
    }
}

// GGUF reader: stories260K.gguf against stories260K.bin, hand-built files (F16, Q8_0, alignment), and bad inputs.
#include "errors.hpp"
#include "model/gguf_file.hpp"
#include "model/gguf_model.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <numbers>

using namespace attnscope::core;
namespace fs = std::filesystem;

namespace {

// Writes GGUF bytes field by field, so that tests can build valid files and break them on purpose.
class GgufBuilder {
public:
    GgufBuilder& u32(uint32_t v) { return raw(&v, 4); }
    GgufBuilder& u64(uint64_t v) { return raw(&v, 8); }
    GgufBuilder& str(const std::string& s) {
        u64(s.size());
        return raw(s.data(), s.size());
    }
    GgufBuilder& raw(const void* p, size_t n) {
        m_bytes.append(static_cast<const char*>(p), n);
        return *this;
    }
    GgufBuilder& header(uint32_t version, uint64_t tensors, uint64_t kvs) {
        raw("GGUF", 4).u32(version);
        return u64(tensors).u64(kvs);
    }
    GgufBuilder& kvString(const std::string& key, const std::string& value) { return str(key).u32(8).str(value); }
    GgufBuilder& kvU32(const std::string& key, uint32_t value) { return str(key).u32(4).u32(value); }
    GgufBuilder& kvF32(const std::string& key, float value) { return str(key).u32(6).raw(&value, 4); }
    // ne in GGUF order (innermost first).
    GgufBuilder& tensorInfo(const std::string& name, std::vector<uint64_t> ne, uint32_t type, uint64_t offset) {
        str(name).u32(static_cast<uint32_t>(ne.size()));
        for (auto d : ne)
            u64(d);
        return u32(type).u64(offset);
    }
    GgufBuilder& align(size_t a) {
        m_bytes.append((a - m_bytes.size() % a) % a, '\0');
        return *this;
    }
    fs::path write(const fs::path& file) const {
        std::ofstream(file, std::ios::binary).write(m_bytes.data(), static_cast<std::streamsize>(m_bytes.size()));
        return file;
    }
    std::string& bytes() { return m_bytes; }

private:
    std::string m_bytes;
};

// Runs `fn`, expecting exception E whose message names `file`.
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

std::vector<float> floats(const RawTensor& t) {
    return toFloat32(t);
}

} // namespace

TEST(GgufFile, Stories260KHeaderConfigAndVocab) {
    ATTNSCOPE_REQUIRE_SHARED();
    const GgufFile g(attnscope::test::stories260KDir() / "stories260K.gguf");
    EXPECT_EQ(g.version(), 3u);
    EXPECT_EQ(g.tensors().size(), 48u);
    EXPECT_EQ(g.metadata().at("general.architecture"), "llama");

    const ModelConfig c = ggufModelConfig(g);
    EXPECT_EQ(c.nLayers, 5);
    EXPECT_EQ(c.nHeads, 8);
    EXPECT_EQ(c.nKvHeads, 4);
    EXPECT_EQ(c.dModel, 64);
    EXPECT_EQ(c.headDim, 8);
    EXPECT_EQ(c.dFf, 172);
    EXPECT_EQ(c.vocabSize, 512);
    EXPECT_EQ(c.ropePairing, RopePairing::Adjacent);
    EXPECT_DOUBLE_EQ(c.ropeTheta, 10000.0);
    EXPECT_NEAR(c.normEps, 1e-5, 1e-12); // stored as float32
    EXPECT_EQ(c.bosId, 1);
    EXPECT_EQ(c.eosId, 2);

    const GgufVocab v = g.vocab();
    EXPECT_EQ(v.model, "llama");
    EXPECT_EQ(v.tokens.size(), 512u);
    EXPECT_EQ(v.scores.size(), 512u);
    EXPECT_EQ(v.tokenTypes.size(), 512u);
    EXPECT_EQ(v.tokens[0], "<unk>");
    EXPECT_EQ(v.tokens[3], "<0x00>");
    EXPECT_EQ(v.tokenTypes[3], 6);
    EXPECT_EQ(v.bosId, 1);
    EXPECT_EQ(v.eosId, 2);
    EXPECT_EQ(v.unkId, 0);
    EXPECT_TRUE(v.addBos);
}

TEST(GgufFile, Stories260KTensorsEqualTheLlama2cArrays) {
    ATTNSCOPE_REQUIRE_SHARED();
    const GgufFile g(attnscope::test::stories260KDir() / "stories260K.gguf");
    const auto bin = attnscope::test::readBinary<float>(attnscope::test::stories260KDir() / "stories260K.bin");
    // Layout from the README: a 7-int32 header, then the arrays in this order (exact equality: same float32 bytes).
    const int64_t dim = 64, hidden = 172, layers = 5, kvDim = 32, vocab = 512;
    size_t at = 7;
    auto take = [&](int64_t n) {
        std::vector<float> out(bin.begin() + static_cast<std::ptrdiff_t>(at),
                               bin.begin() + static_cast<std::ptrdiff_t>(at + n));
        at += static_cast<size_t>(n);
        return out;
    };
    auto perLayer = [&](const std::string& name, int64_t n) {
        for (int64_t l = 0; l < layers; ++l)
            EXPECT_EQ(floats(g.tensors().at("blk." + std::to_string(l) + "." + name)), take(n)) << name << " " << l;
    };
    const auto embedding = take(vocab * dim);
    EXPECT_EQ(floats(g.tensors().at("token_embd.weight")), embedding);
    EXPECT_EQ(floats(g.tensors().at("output.weight")), embedding); // the classifier is tied in llama2.c
    perLayer("attn_norm.weight", dim);
    perLayer("attn_q.weight", dim * dim);
    perLayer("attn_k.weight", kvDim * dim);
    perLayer("attn_v.weight", kvDim * dim);
    perLayer("attn_output.weight", dim * dim);
    perLayer("ffn_norm.weight", dim);
    perLayer("ffn_gate.weight", hidden * dim);
    perLayer("ffn_down.weight", dim * hidden);
    perLayer("ffn_up.weight", hidden * dim);
    EXPECT_EQ(floats(g.tensors().at("output_norm.weight")), take(dim));
    EXPECT_EQ(at * 4 + 16384, bin.size() * 4); // only the legacy RoPE tables remain
    EXPECT_EQ(g.tensors().at("blk.2.ffn_down.weight").shape, (std::vector<int64_t>{64, 172}));
}

TEST(GgufFile, HandBuiltF16Q8AndAlignment) {
    const auto dir = attnscope::test::scratchDir("gguf");
    GgufBuilder b;
    b.header(2, 2, 2).kvString("general.architecture", "llama").kvU32("general.alignment", 64);
    b.tensorInfo("half", {3, 2}, 1, 0).tensorInfo("q8", {32, 1}, 8, 64).align(64);
    for (float f : {1.0f, -2.0f, 0.5f, 0.0f, 3.0f, -0.25f}) {
        const uint16_t h = floatToHalf(f);
        b.raw(&h, 2);
    }
    b.align(64);
    const uint16_t scale = floatToHalf(2.0f);
    b.raw(&scale, 2);
    for (int i = 0; i < 32; ++i)
        b.bytes().push_back(static_cast<char>(i - 16));
    const GgufFile g(b.write(dir / "tiny.gguf"));
    EXPECT_EQ(g.version(), 2u);
    EXPECT_EQ(g.tensors().at("half").shape, (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(floats(g.tensors().at("half")), (std::vector<float>{1, -2, 0.5, 0, 3, -0.25}));
    const auto q = floats(g.tensors().at("q8"));
    ASSERT_EQ(q.size(), 32u);
    EXPECT_EQ(q[0], -32.0f);
    EXPECT_EQ(q[31], 30.0f);
    expectThrowNaming<FormatError>([&] { g.vocab(); }, dir / "tiny.gguf");
}

// A one-layer llama header whose rope_freqs.weight holds `divisors` (head size 8, theta 500000).
fs::path writeRopeFreqsGguf(const fs::path& file, const std::vector<float>& divisors) {
    GgufBuilder b;
    b.header(3, 2, 6).kvString("general.architecture", "llama").kvU32("llama.block_count", 1);
    b.kvU32("llama.embedding_length", 16).kvU32("llama.attention.head_count", 2);
    b.kvU32("llama.feed_forward_length", 32).kvF32("llama.rope.freq_base", 500000.0f);
    b.tensorInfo("token_embd.weight", {16, 10}, 0, 0).tensorInfo("rope_freqs.weight", {4}, 0, 640).align(32);
    b.raw(std::vector<float>(160, 0.5f).data(), 640).raw(divisors.data(), 16);
    return b.write(file);
}

TEST(GgufFile, Llama3RopeScalingRecoveredFromRopeFreqs) {
    // The divisors llama.cpp's converter writes for factor 8, low 1, high 4, original context 8192 (in float32).
    std::vector<float> divisors;
    for (int i = 0; i < 4; ++i) {
        const double wavelen = 2 * std::numbers::pi * std::pow(500000.0, 2.0 * i / 8);
        const double smooth = (8192 / wavelen - 1) / 3;
        divisors.push_back(wavelen < 2048   ? 1.0f
                           : wavelen > 8192 ? 8.0f
                                            : static_cast<float>(1 / ((1 - smooth) / 8 + smooth)));
    }
    const auto dir = attnscope::test::scratchDir("gguf");
    const ModelConfig c = ggufModelConfig(GgufFile(writeRopeFreqsGguf(dir / "llama3.gguf", divisors)));
    EXPECT_EQ(c.vocabSize, 10);
    EXPECT_EQ(c.headDim, 8);
    EXPECT_TRUE(c.tiedEmbeddings);
    EXPECT_EQ(c.ropeScaling.type, "llama3");
    EXPECT_NEAR(c.ropeScaling.factor, 8.0, 1e-5);
    EXPECT_EQ(c.ropeScaling.originalMaxPositions, 8192);

    const auto other = writeRopeFreqsGguf(dir / "other.gguf", {1.0f, 2.0f, 3.0f, 4.0f});
    expectThrowNaming<UnsupportedError>([&] { ggufModelConfig(GgufFile(other)); }, other);
}

TEST(GgufFileBadInput, Truncated) {
    ATTNSCOPE_REQUIRE_SHARED();
    const auto dir = attnscope::test::scratchDir("gguf");
    auto bytes = attnscope::test::readBinary<char>(attnscope::test::stories260KDir() / "stories260K.gguf");
    for (size_t keep : {size_t{6}, size_t{100}, size_t{20000}, bytes.size() - 1}) {
        const auto file = dir / ("cut" + std::to_string(keep) + ".gguf");
        std::ofstream(file, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(keep));
        expectThrowNaming<FormatError>([&] { GgufFile{file}; }, file);
    }
}

TEST(GgufFileBadInput, BadMagic) {
    const auto file =
        GgufBuilder().raw("GGML", 4).u32(3).u64(0).u64(0).write(attnscope::test::scratchDir("gguf") / "magic.gguf");
    expectThrowNaming<FormatError>([&] { GgufFile{file}; }, file);
}

TEST(GgufFileBadInput, Version1IsUnsupported) {
    const auto file =
        GgufBuilder().raw("GGUF", 4).u32(1).u32(0).u32(0).write(attnscope::test::scratchDir("gguf") / "v1.gguf");
    expectThrowNaming<UnsupportedError>([&] { GgufFile{file}; }, file);
}

TEST(GgufFileBadInput, UnsupportedGgmlTypeNamesTheTensor) {
    const auto file = GgufBuilder()
                          .header(3, 1, 0)
                          .tensorInfo("blk.0.attn_q.weight", {256, 4}, 12, 0)
                          .align(32)
                          .raw(std::string(4096, '\0').data(), 4096)
                          .write(attnscope::test::scratchDir("gguf") / "q4k.gguf");
    try {
        GgufFile g(file);
        FAIL() << "a Q4_K tensor was accepted";
    } catch (const UnsupportedError& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
        EXPECT_NE(msg.find("blk.0.attn_q.weight"), std::string::npos) << msg;
        EXPECT_NE(msg.find("Q4_K"), std::string::npos) << msg;
    }
}

TEST(GgufFileBadInput, HugeStringLength) {
    const auto dir = attnscope::test::scratchDir("gguf");
    // A key whose length claims 2^62 bytes must fail before any allocation.
    const auto key = GgufBuilder().header(3, 0, 1).u64(uint64_t{1} << 62).raw("abc", 3).write(dir / "key.gguf");
    expectThrowNaming<FormatError>([&] { GgufFile{key}; }, key);
    // Likewise a string value, and an array claiming 2^60 elements.
    const auto value = GgufBuilder().header(3, 0, 1).str("k").u32(8).u64(~uint64_t{0}).write(dir / "value.gguf");
    expectThrowNaming<FormatError>([&] { GgufFile{value}; }, value);
    const auto array =
        GgufBuilder().header(3, 0, 1).str("k").u32(9).u32(8).u64(uint64_t{1} << 60).write(dir / "array.gguf");
    expectThrowNaming<FormatError>([&] { GgufFile{array}; }, array);
}

TEST(GgufFileBadInput, TensorPastTheEndAndImpossibleShapes) {
    const auto dir = attnscope::test::scratchDir("gguf");
    const auto past =
        GgufBuilder().header(3, 1, 0).tensorInfo("w", {1024, 1024}, 0, 0).align(32).write(dir / "past.gguf");
    expectThrowNaming<FormatError>([&] { GgufFile{past}; }, past);
    const auto huge = GgufBuilder()
                          .header(3, 1, 0)
                          .tensorInfo("w", {uint64_t{1} << 40, uint64_t{1} << 40}, 0, 0)
                          .write(dir / "huge.gguf");
    expectThrowNaming<FormatError>([&] { GgufFile{huge}; }, huge);
    // 2^62 float32 elements: their byte count would wrap around to 0 in 64 bits.
    const auto wrap = GgufBuilder().header(3, 1, 0).tensorInfo("w", {uint64_t{1} << 62}, 0, 0).write(dir / "wrap.gguf");
    expectThrowNaming<FormatError>([&] { GgufFile{wrap}; }, wrap);
    const auto dims = GgufBuilder().header(3, 1, 0).tensorInfo("w", {1, 1, 1, 1, 1}, 0, 0).write(dir / "dims.gguf");
    expectThrowNaming<FormatError>([&] { GgufFile{dims}; }, dims);
}

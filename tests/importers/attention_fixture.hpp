#pragma once
// Test attention dumps: seeded causal softmax maps [L][B][H][T][T], written as .npy, stored .npz (a minimal zip
// writer) and token lists, and the comparison of an imported run with its source.
#include "model/tensor_data.hpp"
#include "npy_format.hpp"
#include "store/run_reader.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace attnscope::test {

struct AttentionFixture {
    int64_t L = 3, B = 2, H = 4, T = 37;
    std::vector<float> p; // [L][B][H][T][T]

    AttentionFixture(int64_t layers, int64_t batch, int64_t heads, int64_t tokens, uint32_t seed = 7)
        : L(layers), B(batch), H(heads), T(tokens), p(size_t(L * B * H * T * T), 0.0f) {
        std::mt19937 rng(seed);
        std::normal_distribution<double> normal(0.0, 2.0);
        for (int64_t m = 0; m < L * B * H; ++m)
            for (int64_t q = 0; q < T; ++q) {
                std::vector<double> s(size_t(q + 1));
                double mx = -1e300, sum = 0.0;
                for (auto& v : s)
                    v = normal(rng), mx = std::max(mx, v);
                for (auto& v : s)
                    v = std::exp(v - mx), sum += v;
                for (int64_t k = 0; k <= q; ++k)
                    at(m, q, k) = float(s[size_t(k)] / sum);
            }
    }
    float& at(int64_t map, int64_t q, int64_t k) { return p[size_t((map * T + q) * T + k)]; }
    // Layer l, batch b: [H][T][T].
    std::vector<float> layer(int64_t l, int64_t b) const {
        const size_t n = size_t(H * T * T), off = size_t((l * B + b)) * n;
        return {p.begin() + off, p.begin() + off + n};
    }
    std::vector<float> layerAllBatches(int64_t l) const {
        const size_t n = size_t(B * H * T * T);
        return {p.begin() + size_t(l) * n, p.begin() + size_t(l + 1) * n};
    }
    void writeTokens(const std::filesystem::path& path) const {
        std::ofstream out(path);
        for (int64_t i = 0; i < T; ++i)
            out << "tok" << (i % 5) << "\n";
    }
};

inline std::string npy(const std::vector<int64_t>& shape, const std::vector<float>& v) {
    return importers::npyBytes(shape, std::vector<double>(v.begin(), v.end()), importers::NpyType::Float32);
}

inline uint32_t crc32Of(const std::string& s) {
    uint32_t c = 0xffffffffu;
    for (unsigned char b : s) {
        c ^= b;
        for (int i = 0; i < 8; ++i)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

// A zip of stored (uncompressed) entries, as numpy.savez writes them.
inline void writeStoredZip(const std::filesystem::path& path, const std::vector<std::pair<std::string, std::string>>& entries) {
    std::string out, dir;
    auto u16 = [](std::string& s, uint32_t v) { s.push_back(char(v & 0xff)), s.push_back(char(v >> 8 & 0xff)); };
    auto u32 = [&](std::string& s, uint32_t v) { u16(s, v & 0xffff), u16(s, v >> 16); };
    for (const auto& [name, data] : entries) {
        const uint32_t offset = uint32_t(out.size()), crc = crc32Of(data);
        u32(out, 0x04034b50), u16(out, 20), u16(out, 0), u16(out, 0), u32(out, 0), u32(out, crc);
        u32(out, uint32_t(data.size())), u32(out, uint32_t(data.size())), u16(out, uint16_t(name.size())), u16(out, 0);
        out += name + data;
        u32(dir, 0x02014b50), u16(dir, 20), u16(dir, 20), u16(dir, 0), u16(dir, 0), u32(dir, 0), u32(dir, crc);
        u32(dir, uint32_t(data.size())), u32(dir, uint32_t(data.size())), u16(dir, uint16_t(name.size()));
        u16(dir, 0), u16(dir, 0), u16(dir, 0), u16(dir, 0), u32(dir, 0), u32(dir, offset);
        dir += name;
    }
    const uint32_t dirOffset = uint32_t(out.size());
    out += dir;
    u32(out, 0x06054b50), u16(out, 0), u16(out, 0), u16(out, uint16_t(entries.size())), u16(out, uint16_t(entries.size()));
    u32(out, uint32_t(dir.size())), u32(out, dirOffset), u16(out, 0);
    std::ofstream(path, std::ios::binary).write(out.data(), std::streamsize(out.size()));
}

// Every head of the run equals the source's batch element b. Tolerance: the run stores float16, whose rounding moves
// a probability p in [0, 1] by at most p * 2^-11 (half an ulp of an 11-bit significand), plus 2^-25 for subnormals.
inline void expectRunEquals(core::RunReader& run, const AttentionFixture& f, int64_t b) {
    ASSERT_EQ(run.model().nLayers, f.L);
    ASSERT_EQ(run.model().nHeads, f.H);
    ASSERT_EQ(run.layout().tokens, f.T);
    EXPECT_TRUE(run.layout().fullProbs);
    EXPECT_FALSE(run.layout().qk);
    for (int64_t l = 0; l < f.L; ++l) {
        const std::vector<float> src = f.layer(l, b);
        const std::vector<float> received = run.layerStat("received", l);
        for (int64_t h = 0; h < f.H; ++h) {
            const core::Tile tile = run.tile(l, h, 0, 0, 0, f.T);
            ASSERT_EQ(tile.source, core::TileSource::FullMap);
            for (int64_t q = 0; q < f.T; ++q)
                for (int64_t k = 0; k < f.T; ++k) {
                    const float want = src[size_t((h * f.T + q) * f.T + k)];
                    ASSERT_NEAR(tile.values[size_t(q * f.T + k)], want, want * 0x1p-11f + 0x1p-25f)
                        << "layer " << l << " head " << h << " row " << q << " key " << k;
                }
            // Statistics are computed from the float32 source, so column sums match it to float32 accuracy.
            for (int64_t k = 0; k < f.T; ++k) {
                double sum = 0.0;
                for (int64_t q = 0; q < f.T; ++q)
                    sum += src[size_t((h * f.T + q) * f.T + k)];
                ASSERT_NEAR(received[size_t(h * f.T + k)], sum, 1e-5);
            }
        }
    }
}

} // namespace attnscope::test

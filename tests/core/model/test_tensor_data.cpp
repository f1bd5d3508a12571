// Half/bfloat16 conversions (rounding, infinities, NaN, subnormals) and float32 conversion of F16/BF16/Q8_0 tensors.
#include "errors.hpp"
#include "model/tensor_data.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

using namespace attnscope::core;

namespace {

float pow2(int e) {
    return std::ldexp(1.0f, e);
}

RawTensor viewOf(DType dtype, std::vector<int64_t> shape, const std::vector<uint8_t>& bytes) {
    RawTensor t;
    t.dtype = dtype;
    t.shape = std::move(shape);
    t.data = bytes.data();
    t.nbytes = bytes.size();
    t.file = "/mem/test.bin";
    return t;
}

} // namespace

TEST(TensorData, FloatToHalfExactAndRounding) {
    EXPECT_EQ(floatToHalf(1.0f), 0x3c00);
    EXPECT_EQ(floatToHalf(-2.0f), 0xc000);
    EXPECT_EQ(floatToHalf(0.0f), 0x0000);
    EXPECT_EQ(floatToHalf(-0.0f), 0x8000);
    EXPECT_EQ(floatToHalf(65504.0f), 0x7bff);
    // Ties go to the even mantissa: 1 + 2^-11 is halfway between 0x3c00 and 0x3c01.
    EXPECT_EQ(floatToHalf(1.0f + pow2(-11)), 0x3c00);
    EXPECT_EQ(floatToHalf(1.0f + 3 * pow2(-11)), 0x3c02);
    EXPECT_EQ(floatToHalf(1.0f + pow2(-11) + pow2(-20)), 0x3c01);
    // A mantissa carry moves to the next binade.
    EXPECT_EQ(floatToHalf(2.0f - pow2(-12)), 0x4000);
}

TEST(TensorData, FloatToHalfOverflowInfNan) {
    EXPECT_EQ(floatToHalf(65519.0f), 0x7bff);
    EXPECT_EQ(floatToHalf(65520.0f), 0x7c00); // halfway to 2^16 rounds (to even) up to infinity
    EXPECT_EQ(floatToHalf(1e10f), 0x7c00);
    EXPECT_EQ(floatToHalf(std::numeric_limits<float>::infinity()), 0x7c00);
    EXPECT_EQ(floatToHalf(-std::numeric_limits<float>::infinity()), 0xfc00);
    const uint16_t nan = floatToHalf(std::numeric_limits<float>::quiet_NaN());
    EXPECT_EQ(nan & 0x7c00, 0x7c00);
    EXPECT_NE(nan & 0x03ff, 0);
    // A NaN whose payload lives only in the low bits must not become infinity.
    const uint16_t lowNan = floatToHalf(std::bit_cast<float>(0x7f800001u));
    EXPECT_NE(lowNan & 0x03ff, 0);
}

TEST(TensorData, FloatToHalfSubnormals) {
    EXPECT_EQ(floatToHalf(pow2(-14)), 0x0400);        // smallest normal
    EXPECT_EQ(floatToHalf(1023 * pow2(-24)), 0x03ff); // largest subnormal
    EXPECT_EQ(floatToHalf(pow2(-24)), 0x0001);        // smallest subnormal
    EXPECT_EQ(floatToHalf(pow2(-25)), 0x0000);        // tie between 0 and 1 ulp: even is 0
    EXPECT_EQ(floatToHalf(1.5f * pow2(-25)), 0x0001);
    EXPECT_EQ(floatToHalf(3 * pow2(-25)), 0x0002); // tie between 1 and 2 ulps: even is 2
    EXPECT_EQ(floatToHalf(pow2(-26)), 0x0000);
    EXPECT_EQ(floatToHalf(-pow2(-24)), 0x8001);
    EXPECT_EQ(floatToHalf(1023.5f * pow2(-24)), 0x0400); // rounds up into the normals
}

TEST(TensorData, HalfToFloatSpecialValues) {
    EXPECT_EQ(halfToFloat(0x0001), pow2(-24));
    EXPECT_EQ(halfToFloat(0x03ff), 1023 * pow2(-24));
    EXPECT_EQ(halfToFloat(0x0400), pow2(-14));
    EXPECT_EQ(halfToFloat(0x7bff), 65504.0f);
    EXPECT_EQ(halfToFloat(0x3555), 0.333251953125f);
    EXPECT_TRUE(std::isinf(halfToFloat(0x7c00)));
    EXPECT_TRUE(std::isinf(halfToFloat(0xfc00)) && halfToFloat(0xfc00) < 0);
    EXPECT_TRUE(std::isnan(halfToFloat(0x7e00)));
    EXPECT_TRUE(std::signbit(halfToFloat(0x8000)));
}

TEST(TensorData, EveryHalfRoundTrips) {
    for (uint32_t h = 0; h < 0x10000; ++h) {
        const float f = halfToFloat(static_cast<uint16_t>(h));
        if (std::isnan(f)) {
            EXPECT_TRUE(std::isnan(halfToFloat(floatToHalf(f)))) << h;
        } else {
            ASSERT_EQ(floatToHalf(f), h) << h;
        }
    }
}

TEST(TensorData, Bfloat16Conversions) {
    EXPECT_EQ(floatToBf16(1.0f), 0x3f80);
    EXPECT_EQ(bf16ToFloat(0x3f80), 1.0f);
    EXPECT_EQ(floatToBf16(1.0f + pow2(-8)), 0x3f80); // tie to even
    EXPECT_EQ(floatToBf16(1.0f + 3 * pow2(-8)), 0x3f82);
    EXPECT_EQ(floatToBf16(1.0f + pow2(-8) + pow2(-20)), 0x3f81);
    EXPECT_EQ(floatToBf16(std::numeric_limits<float>::max()), 0x7f80); // rounds to infinity
    EXPECT_EQ(floatToBf16(-std::numeric_limits<float>::infinity()), 0xff80);
    EXPECT_TRUE(std::isnan(bf16ToFloat(floatToBf16(std::bit_cast<float>(0x7f800001u)))));
    EXPECT_EQ(floatToBf16(std::bit_cast<float>(0x00010000u)), 0x0001); // subnormal kept exactly
    EXPECT_EQ(bf16ToFloat(0x0001), std::bit_cast<float>(0x00010000u));
    for (uint32_t b = 0; b < 0x10000; ++b) {
        const float f = bf16ToFloat(static_cast<uint16_t>(b));
        if (!std::isnan(f)) {
            ASSERT_EQ(floatToBf16(f), b) << b;
        }
    }
}

TEST(TensorData, SizesAndNames) {
    EXPECT_EQ(tensorBytes(DType::Q8_0, 64), 68u);
    EXPECT_EQ(tensorBytes(DType::F16, 10), 20u);
    EXPECT_EQ(tensorBytes(DType::F32, 0), 0u);
    EXPECT_STREQ(dtypeName(DType::BF16), "BF16");
    EXPECT_EQ(makeOwnedF32({2, 3}, std::vector<float>(6, 1.0f)).numel(), 6);
}

TEST(TensorData, Q8_0DequantisesAHandBuiltBlock) {
    // Two blocks: scale 0.5 with q = -128..-97, then scale -0.25 with q = 0..31 (values exact in float32).
    std::vector<uint8_t> bytes;
    const uint16_t scales[] = {floatToHalf(0.5f), floatToHalf(-0.25f)};
    for (int b = 0; b < 2; ++b) {
        bytes.push_back(static_cast<uint8_t>(scales[b] & 0xff));
        bytes.push_back(static_cast<uint8_t>(scales[b] >> 8));
        for (int i = 0; i < 32; ++i)
            bytes.push_back(static_cast<uint8_t>(static_cast<int8_t>(b == 0 ? -128 + i : i)));
    }
    const auto values = toFloat32(viewOf(DType::Q8_0, {2, 32}, bytes));
    ASSERT_EQ(values.size(), 64u);
    for (int i = 0; i < 32; ++i) {
        EXPECT_EQ(values[i], 0.5f * static_cast<float>(-128 + i));
        EXPECT_EQ(values[32 + i], -0.25f * static_cast<float>(i));
    }
}

TEST(TensorData, ToFloat32FromHalfAndBf16) {
    const float want[] = {1.0f, -2.5f, 0.0f, 65504.0f};
    std::vector<uint8_t> half, bf;
    for (float f : want) {
        const uint16_t h = floatToHalf(f), b = floatToBf16(f);
        half.insert(half.end(), {static_cast<uint8_t>(h), static_cast<uint8_t>(h >> 8)});
        bf.insert(bf.end(), {static_cast<uint8_t>(b), static_cast<uint8_t>(b >> 8)});
    }
    EXPECT_EQ(toFloat32(viewOf(DType::F16, {4}, half)), std::vector<float>(std::begin(want), std::end(want)));
    const auto b = toFloat32(viewOf(DType::BF16, {2, 2}, bf));
    EXPECT_EQ(b[0], 1.0f);
    EXPECT_EQ(b[1], -2.5f);
    EXPECT_EQ(b[3], 65536.0f); // 65504 is not a bfloat16: nearest is 2^16
}

TEST(TensorData, ToFloat32RejectsShortBuffersAndIntegerTypes) {
    const std::vector<uint8_t> bytes(6);
    try {
        toFloat32(viewOf(DType::F32, {2}, bytes));
        ADD_FAILURE() << "a 6-byte F32 tensor of 2 elements was accepted";
    } catch (const FormatError&) {
    }
    std::vector<uint8_t> ints(8);
    try {
        toFloat32(viewOf(DType::I32, {2}, ints));
        ADD_FAILURE() << "an I32 tensor was converted";
    } catch (const UnsupportedError& e) {
        EXPECT_NE(std::string(e.what()).find("/mem/test.bin"), std::string::npos) << e.what();
    }
}

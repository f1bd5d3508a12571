#include "model/tensor_data.hpp"

#include "errors.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace attnscope::core {

// Every reader hands out little-endian bytes without swapping.
static_assert(std::endian::native == std::endian::little, "attnscope assumes a little-endian host");

namespace {

constexpr int64_t kQ8Block = 32;
constexpr size_t kQ8BlockBytes = 2 + kQ8Block; // fp16 scale, then 32 int8 values

std::string fileLabel(const RawTensor& t) {
    return t.file.empty() ? std::string("a tensor") : "'" + t.file + "'";
}

} // namespace

const char* dtypeName(DType dtype) {
    switch (dtype) {
    case DType::F32:
        return "F32";
    case DType::F16:
        return "F16";
    case DType::BF16:
        return "BF16";
    case DType::Q8_0:
        return "Q8_0";
    case DType::I32:
        return "I32";
    case DType::I64:
        return "I64";
    case DType::U8:
        return "U8";
    }
    return "?";
}

size_t dtypeSize(DType dtype) {
    switch (dtype) {
    case DType::F32:
        return 4;
    case DType::F16:
        return 2;
    case DType::BF16:
        return 2;
    case DType::Q8_0:
        return kQ8BlockBytes;
    case DType::I32:
        return 4;
    case DType::I64:
        return 8;
    case DType::U8:
        return 1;
    }
    return 0;
}

size_t tensorBytes(DType dtype, int64_t numel) {
    if (numel <= 0) return 0;
    if (dtype == DType::Q8_0) return static_cast<size_t>((numel + kQ8Block - 1) / kQ8Block) * kQ8BlockBytes;
    return static_cast<size_t>(numel) * dtypeSize(dtype);
}

int64_t RawTensor::numel() const {
    int64_t n = 1;
    for (int64_t d : shape)
        n *= d;
    return n;
}

std::vector<float> toFloat32(const RawTensor& t) {
    const int64_t n = t.numel();
    if (t.nbytes < tensorBytes(t.dtype, n) || (n > 0 && t.data == nullptr))
        throw FormatError(fileLabel(t) + " holds " + std::to_string(t.nbytes) + " bytes for a " + dtypeName(t.dtype) +
                          " tensor of " + std::to_string(n) + " elements, which needs " +
                          std::to_string(tensorBytes(t.dtype, n)) + ".");
    std::vector<float> out(static_cast<size_t>(n));
    const uint8_t* p = t.data;
    // memcpy per element: mapped tensors need not be aligned to their element size.
    switch (t.dtype) {
    case DType::F32:
        if (n > 0) std::memcpy(out.data(), p, out.size() * sizeof(float));
        break;
    case DType::F16:
    case DType::BF16: {
        const bool half = t.dtype == DType::F16;
        for (int64_t i = 0; i < n; ++i) {
            uint16_t v;
            std::memcpy(&v, p + 2 * i, 2);
            out[i] = half ? halfToFloat(v) : bf16ToFloat(v);
        }
        break;
    }
    case DType::Q8_0: {
        for (int64_t b = 0; b * kQ8Block < n; ++b) {
            const uint8_t* block = p + b * kQ8BlockBytes;
            uint16_t scaleBits;
            std::memcpy(&scaleBits, block, 2);
            const float scale = halfToFloat(scaleBits);
            const int64_t count = std::min<int64_t>(kQ8Block, n - b * kQ8Block);
            for (int64_t i = 0; i < count; ++i)
                out[b * kQ8Block + i] = scale * static_cast<float>(static_cast<int8_t>(block[2 + i]));
        }
        break;
    }
    default:
        throw UnsupportedError(fileLabel(t) + " holds a " + std::string(dtypeName(t.dtype)) +
                               " tensor, which cannot be converted to float32.");
    }
    return out;
}

RawTensor makeOwnedF32(std::vector<int64_t> shape, std::vector<float> values, std::string file) {
    auto buffer = std::make_shared<std::vector<float>>(std::move(values));
    RawTensor t;
    t.dtype = DType::F32;
    t.shape = std::move(shape);
    t.data = reinterpret_cast<const uint8_t*>(buffer->data());
    t.nbytes = buffer->size() * sizeof(float);
    t.owner = std::move(buffer);
    t.file = std::move(file);
    return t;
}

float halfToFloat(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
    const uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    uint32_t bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000 | (mant << 13); // inf, or NaN keeping its payload
    } else if (exp != 0) {
        bits = sign | ((exp + 112) << 23) | (mant << 13);
    } else if (mant == 0) {
        bits = sign;
    } else {
        // Subnormal half: normalise, since every half subnormal is a float normal.
        int e = -1;
        do {
            ++e;
            mant <<= 1;
        } while ((mant & 0x400) == 0);
        bits = sign | static_cast<uint32_t>(112 - e) << 23 | ((mant & 0x3ff) << 13);
    }
    return std::bit_cast<float>(bits);
}

uint16_t floatToHalf(float f) {
    const uint32_t x = std::bit_cast<uint32_t>(f);
    const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
    const uint32_t ax = x & 0x7fffffff;
    if (ax > 0x7f800000) // NaN: stay a (quiet) NaN even when the payload's top bits are zero
        return static_cast<uint16_t>(sign | 0x7e00 | ((ax >> 13) & 0x3ff));
    if (ax >= 0x477ff000) // 65520 and above round to infinity
        return static_cast<uint16_t>(sign | 0x7c00);
    auto roundShift = [](uint32_t v, uint32_t shift) {
        const uint32_t q = v >> shift;
        const uint32_t rem = v & ((1u << shift) - 1);
        const uint32_t halfway = 1u << (shift - 1);
        return q + ((rem > halfway || (rem == halfway && (q & 1))) ? 1u : 0u);
    };
    const uint32_t exp = ax >> 23;
    if (exp >= 113) // normal half; a carry out of the mantissa correctly bumps the exponent
        return static_cast<uint16_t>(sign | roundShift(ax - (112u << 23), 13));
    if (exp < 102) // below half the smallest subnormal (2^-25): rounds to zero
        return sign;
    // Subnormal half: units of 2^-24; reaching 0x400 yields the smallest normal, which is right.
    const uint32_t mant = (ax & 0x7fffff) | 0x800000;
    return static_cast<uint16_t>(sign | roundShift(mant, 126 - exp));
}

float bf16ToFloat(uint16_t b) {
    return std::bit_cast<float>(static_cast<uint32_t>(b) << 16);
}

uint16_t floatToBf16(float f) {
    const uint32_t x = std::bit_cast<uint32_t>(f);
    if ((x & 0x7fffffff) > 0x7f800000) // NaN: truncation could clear every payload bit and make it infinity
        return static_cast<uint16_t>((x >> 16) | 0x40);
    const uint32_t rounded = x + 0x7fff + ((x >> 16) & 1);
    return static_cast<uint16_t>(rounded >> 16);
}

} // namespace attnscope::core

#pragma once
// Weight tensors as plain bytes, independent of torch: shape is row-major, outermost axis first (PyTorch order).
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace attnscope::core {

enum class DType { F32, F16, BF16, Q8_0, I32, I64, U8 };

const char* dtypeName(DType dtype);
// Bytes per element for plain types; Q8_0 has 34 bytes per block of 32 elements (use tensorBytes()).
size_t dtypeSize(DType dtype);
// Bytes a tensor of this dtype and element count occupies (handles block-quantised types).
size_t tensorBytes(DType dtype, int64_t numel);

// A view of one tensor's bytes; `owner` keeps the memory (a mapped file or a buffer) alive.
struct RawTensor {
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    const uint8_t* data = nullptr;
    size_t nbytes = 0;
    std::shared_ptr<const void> owner;
    std::string file; // where it came from, for error messages

    int64_t numel() const;
};

// Tensors by name. Names are the loader's canonical ones (see model_files.hpp) once a model is loaded.
using TensorSet = std::map<std::string, RawTensor>;

// Converts F32/F16/BF16/Q8_0 to float32, row-major; throws UnsupportedError for other dtypes.
std::vector<float> toFloat32(const RawTensor& t);

// Makes a RawTensor that owns a copy of `values` as float32 (used for fused-weight splits and tests).
RawTensor makeOwnedF32(std::vector<int64_t> shape, std::vector<float> values, std::string file = {});

// IEEE half and bfloat16 conversions (round to nearest even).
float halfToFloat(uint16_t h);
uint16_t floatToHalf(float f);
float bf16ToFloat(uint16_t b);
uint16_t floatToBf16(float f);

} // namespace attnscope::core

#include "runtime/torch_weights.hpp"

#include "errors.hpp"

#include <ATen/ATen.h>

namespace attnscope::core {

at::ScalarType torchDtype(DType d) {
    switch (d) {
    case DType::F32: return at::kFloat;
    case DType::F16: return at::kHalf;
    case DType::BF16: return at::kBFloat16;
    case DType::I32: return at::kInt;
    case DType::I64: return at::kLong;
    case DType::U8: return at::kByte;
    case DType::Q8_0: break;
    }
    throw UnsupportedError(std::string("Tensors of dtype ") + dtypeName(d) + " have no direct torch equivalent.");
}

at::Tensor toTorch(const RawTensor& t, at::ScalarType dtype, at::Device device) {
    if (t.dtype == DType::Q8_0) {
        std::vector<float> values = toFloat32(t);
        return at::from_blob(values.data(), t.shape, at::kFloat).to(device, dtype, false, /*copy=*/true);
    }
    // from_blob does not own the mapped bytes; the copy makes the result independent of the file.
    auto view = at::from_blob(const_cast<uint8_t*>(t.data), t.shape, torchDtype(t.dtype));
    return view.to(device, dtype, false, /*copy=*/true);
}

} // namespace attnscope::core

#pragma once
// Copies a RawTensor (any stored dtype, host memory) into an owned at::Tensor of the requested dtype and device.
#include "model/tensor_data.hpp"

#include <ATen/core/Tensor.h>

namespace attnscope::core {

at::Tensor toTorch(const RawTensor& t, at::ScalarType dtype, at::Device device);
at::ScalarType torchDtype(DType d);

} // namespace attnscope::core

#pragma once
// Validates, from the raw bytes, the global-heap objects behind a contiguous variable-length string dataset before
// HDF5 reads it. HDF5 1.10 checks heap indexes and sizes only with debug asserts, so a damaged heap would crash it.
#include "store/h5_io.hpp"

namespace attnscope::core {

// Throws FormatError (naming the file and `what`) when an element's heap reference or its heap collection is damaged.
// Datasets it cannot inspect (chunked, compact, other address sizes) pass unchecked.
void h5CheckVlenHeap(const H5Io& io, hid_t file, hid_t dataset, const std::string& what);

} // namespace attnscope::core

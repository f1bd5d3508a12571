#pragma once
// HDF5 files written by h5py (or anything else): every floating-point dataset of rank 3 to 5, read as float32.
#include "imported_array.hpp"

#include <filesystem>
#include <vector>

namespace attnscope::importers {

// Datasets named by their full path ("/attentions/3"), in the file's traversal order. Throws core::FileError
// (missing), core::FormatError (not HDF5, truncated, unreadable dataset), each naming the file and dataset.
std::vector<ImportedArray> readHdf5Arrays(const std::filesystem::path& path);

} // namespace attnscope::importers

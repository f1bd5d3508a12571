#pragma once
// The NumPy .npy format (versions 1-3): parse a buffer into float32, and write float64/float32/int32 arrays.
// Reads little-endian or byte-order-free f2/f4/f8 and i1-i8/u1-u8 (integers are flagged not floating), C order only.
#include "imported_array.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace attnscope::importers {

// Parses one .npy image. Throws core::FormatError naming `origin` for a bad magic, header or truncated data, and
// core::UnsupportedError for big-endian, Fortran-ordered, structured or complex arrays.
ImportedArray parseNpy(const uint8_t* data, size_t size, const std::string& origin);
// Reads a .npy file (memory-mapped); throws core::FileError when it cannot be opened.
ImportedArray readNpy(const std::filesystem::path& path);

enum class NpyType { Float64, Float32, Int32 };
// A complete .npy (version 1.0) image of `values` converted to `type`, with the given shape.
std::string npyBytes(const std::vector<int64_t>& shape, const std::vector<double>& values, NpyType type);

} // namespace attnscope::importers

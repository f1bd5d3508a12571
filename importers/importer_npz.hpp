#pragma once
// NumPy .npz archives (numpy.savez / savez_compressed): a zip of .npy entries, stored or deflated, zip64 included.
#include "imported_array.hpp"

#include <filesystem>
#include <vector>

namespace attnscope::importers {

// Every .npy entry in archive order, named without the ".npy" suffix ("arr_0", "attentions.3"). Throws
// core::FileError (missing), core::FormatError (not a zip, truncated, CRC mismatch, a damaged entry) or
// core::UnsupportedError (encryption, a compression other than stored/deflate), each naming the file and entry.
std::vector<ImportedArray> readNpz(const std::filesystem::path& path);

} // namespace attnscope::importers

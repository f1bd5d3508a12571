#pragma once
// Typed HDF5 reads and writes for one file: writes throw FileError, reads throw FormatError, each naming the file
// and the object (path inside the file). Shapes are row-major, outermost axis first.
#include "store/h5_handles.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace attnscope::core {

using H5Dims = std::vector<hsize_t>;

std::string h5DimsText(const H5Dims& dims); // "[2,4,37]"

class H5Io {
public:
    explicit H5Io(std::filesystem::path file) : m_file(std::move(file)) {}
    const std::filesystem::path& file() const { return m_file; }

    // --- writing (FileError) ---
    H5Group createGroup(hid_t loc, const std::string& name) const;
    // `chunk` empty: contiguous. Chunked datasets carry a Fletcher-32 checksum per chunk; `deflate` > 0 adds
    // shuffle + deflate at that level.
    H5Dataset createDataset(hid_t loc, const std::string& name, hid_t type, const H5Dims& dims,
                            const H5Dims& chunk = {}, int deflate = 0, hid_t accessList = H5P_DEFAULT) const;
    // Writes `count` elements starting at `start` (a hyperslab of the whole dataset), memory laid out densely.
    void writeSlab(hid_t dataset, hid_t memType, const H5Dims& start, const H5Dims& count, const void* data,
                   const std::string& what) const;
    void writeAll(hid_t dataset, hid_t memType, const void* data, const std::string& what) const;
    void writeAttr(hid_t loc, const std::string& name, const std::string& value) const;
    void writeAttr(hid_t loc, const std::string& name, int64_t value) const;
    void writeAttr(hid_t loc, const std::string& name, double value) const;

    // --- reading (FormatError) ---
    bool exists(hid_t loc, const std::string& path) const; // every component of a relative or absolute path
    H5Group openGroup(hid_t loc, const std::string& name) const;
    H5Dataset openDataset(hid_t loc, const std::string& name) const;
    std::optional<H5Dataset> openDatasetIfPresent(hid_t loc, const std::string& name) const;
    H5Dims dims(hid_t dataset, const std::string& what) const;
    // Opens `name` and checks its class (H5T_FLOAT, H5T_INTEGER, H5T_STRING) and shape; H5T_FLOAT with
    // `half` also requires 2-byte elements.
    H5Dataset openChecked(hid_t loc, const std::string& name, H5T_class_t cls, const H5Dims& shape,
                          bool half = false) const;
    void readSlab(hid_t dataset, hid_t memType, const H5Dims& start, const H5Dims& count, void* out,
                  const std::string& what) const;
    void readAll(hid_t dataset, hid_t memType, void* out, const std::string& what) const;
    std::vector<std::string> readStrings(hid_t dataset, const std::string& what) const; // 1-D, vlen or fixed
    std::string readScalarString(hid_t dataset, const std::string& what) const;
    bool hasAttr(hid_t loc, const std::string& name) const;
    std::string readStringAttr(hid_t loc, const std::string& name, const std::string& where) const;
    int64_t readIntAttr(hid_t loc, const std::string& name, const std::string& where) const;
    double readDoubleAttr(hid_t loc, const std::string& name, const std::string& where) const;
    std::vector<std::string> children(hid_t group, const std::string& what) const; // link names, sorted

    // A FormatError "Run file 'F' is malformed: <problem>." for callers' own checks.
    [[noreturn]] void malformed(const std::string& problem) const;

private:
    [[noreturn]] void writeFailed(const std::string& what) const;
    [[noreturn]] void readFailed(const std::string& what) const;

    std::filesystem::path m_file;
};

} // namespace attnscope::core

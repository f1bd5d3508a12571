#include "importer_hdf5.hpp"

#include "errors.hpp"
#include "store/h5_handles.hpp"

#include <fmt/format.h>

#include <unistd.h>

namespace attnscope::importers {

using core::FormatError;

namespace {

struct Visit {
    std::vector<std::string> names;
};

// Links rather than objects: H5Lvisit and H5Iget_type have one signature in every HDF5 since 1.8.
herr_t collect(hid_t group, const char* name, const H5L_info_t*, void* data) {
    const hid_t object = H5Oopen(group, name, H5P_DEFAULT);
    if (object < 0) return 0; // a dangling soft or external link: nothing to read
    if (H5Iget_type(object) == H5I_DATASET) static_cast<Visit*>(data)->names.push_back(std::string("/") + name);
    H5Oclose(object);
    return 0;
}

} // namespace

std::vector<ImportedArray> readHdf5Arrays(const std::filesystem::path& path) {
    const std::string file = path.string();
    if (::access(path.c_str(), R_OK) != 0)
        throw core::FileError(fmt::format("Cannot open '{}' for import: it does not exist or is not readable.", file));
    core::h5Silence();
    core::H5File h(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
    if (!h) throw FormatError(fmt::format("'{}' is truncated or not a readable HDF5 file{}.", file, core::h5Detail()));
    Visit visit;
    if (H5Lvisit(h.get(), H5_INDEX_NAME, H5_ITER_INC, collect, &visit) < 0)
        throw FormatError(fmt::format("'{}' has a damaged group structure{}.", file, core::h5Detail()));
    std::vector<ImportedArray> arrays;
    for (const std::string& name : visit.names) {
        core::H5Dataset d(H5Dopen2(h.get(), name.c_str(), H5P_DEFAULT));
        core::H5Type type(d ? H5Dget_type(d.get()) : H5I_INVALID_HID);
        core::H5Space space(d ? H5Dget_space(d.get()) : H5I_INVALID_HID);
        if (!d || !type || !space)
            throw FormatError(fmt::format("'{}' has an unreadable dataset '{}'{}.", file, name, core::h5Detail()));
        const H5T_class_t cls = H5Tget_class(type.get());
        const int rank = H5Sget_simple_extent_ndims(space.get());
        ImportedArray a;
        a.origin = file + ":" + name;
        a.name = name;
        a.floating = cls == H5T_FLOAT;
        if ((cls != H5T_FLOAT && cls != H5T_INTEGER) || rank < 0) continue; // strings, compounds: not attention
        std::vector<hsize_t> dims(static_cast<size_t>(rank));
        H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
        for (hsize_t v : dims)
            a.shape.push_back(int64_t(v));
        // HDF5 converts float16 (h5py's IEEE half) and integers to native float on the way in.
        a.values.resize(size_t(a.numel()));
        if (!a.values.empty() &&
            H5Dread(d.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, a.values.data()) < 0)
            throw FormatError(
                fmt::format("'{}' has a dataset '{}' that cannot be read (truncated or corrupted){}.", file, name,
                            core::h5Detail()));
        arrays.push_back(std::move(a));
    }
    return arrays;
}

} // namespace attnscope::importers

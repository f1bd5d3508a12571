#include "store/h5_io.hpp"

#include "errors.hpp"

#include <algorithm>
#include <functional>

namespace attnscope::core {

std::string h5DimsText(const H5Dims& dims) {
    std::string text = "[";
    for (size_t i = 0; i < dims.size(); ++i)
        text += (i ? "," : "") + std::to_string(dims[i]);
    return text + "]";
}

void H5Io::writeFailed(const std::string& what) const {
    throw FileError("Cannot write " + what + " to '" + m_file.string() + "'" + h5Detail() + ".");
}

void H5Io::readFailed(const std::string& what) const {
    throw FormatError("Cannot read " + what + " from run file '" + m_file.string() +
                      "': the file is corrupted or truncated" + h5Detail() + ".");
}

void H5Io::malformed(const std::string& problem) const {
    H5Eclear2(H5E_DEFAULT);
    throw FormatError("Run file '" + m_file.string() + "' is malformed: " + problem + ".");
}

H5Group H5Io::createGroup(hid_t loc, const std::string& name) const {
    H5Group group(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    if (!group) writeFailed("group " + name);
    return group;
}

H5Dataset H5Io::createDataset(hid_t loc, const std::string& name, hid_t type, const H5Dims& dims, const H5Dims& chunk,
                              int deflate, hid_t accessList) const {
    H5Space space(H5Screate_simple(int(dims.size()), dims.data(), nullptr));
    H5Plist create(H5Pcreate(H5P_DATASET_CREATE));
    if (!space || !create) writeFailed("dataset " + name);
    if (!chunk.empty()) {
        if (H5Pset_chunk(create.get(), int(chunk.size()), chunk.data()) < 0) writeFailed("dataset " + name);
        // Shuffle groups the bytes of each value together: halves and floats deflate much better after it.
        if (deflate > 0 && (H5Pset_shuffle(create.get()) < 0 || H5Pset_deflate(create.get(), unsigned(deflate)) < 0))
            writeFailed("dataset " + name);
        // A checksum per chunk, last in the pipeline so it covers the compressed bytes: a damaged chunk fails to
        // read instead of inflating into plausible numbers.
        if (H5Pset_fletcher32(create.get()) < 0) writeFailed("dataset " + name);
    }
    H5Dataset dataset(H5Dcreate2(loc, name.c_str(), type, space.get(), H5P_DEFAULT, create.get(), accessList));
    if (!dataset) writeFailed("dataset " + name);
    return dataset;
}

void H5Io::writeSlab(hid_t dataset, hid_t memType, const H5Dims& start, const H5Dims& count, const void* data,
                     const std::string& what) const {
    H5Space fileSpace(H5Dget_space(dataset));
    H5Space memSpace(H5Screate_simple(int(count.size()), count.data(), nullptr));
    if (!fileSpace || !memSpace ||
        H5Sselect_hyperslab(fileSpace.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr) < 0 ||
        H5Dwrite(dataset, memType, memSpace.get(), fileSpace.get(), H5P_DEFAULT, data) < 0)
        writeFailed(what);
}

void H5Io::writeAll(hid_t dataset, hid_t memType, const void* data, const std::string& what) const {
    if (H5Dwrite(dataset, memType, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) writeFailed(what);
}

namespace {

template <typename Fn> bool writeScalarAttr(hid_t loc, const std::string& name, hid_t type, Fn&& write) {
    H5Space space(H5Screate(H5S_SCALAR));
    if (!space) return false;
    // Replace rather than fail when the attribute exists (a rewritten /analysis entry, a patched file).
    if (H5Aexists(loc, name.c_str()) > 0 && H5Adelete(loc, name.c_str()) < 0) return false;
    H5Attr attr(H5Acreate2(loc, name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT));
    return attr && write(attr.get()) >= 0;
}

} // namespace

void H5Io::writeAttr(hid_t loc, const std::string& name, const std::string& value) const {
    const H5Type type = h5Utf8Type();
    const char* text = value.c_str();
    if (!writeScalarAttr(loc, name, type.get(), [&](hid_t a) { return H5Awrite(a, type.get(), &text); }))
        writeFailed("attribute " + name);
}

void H5Io::writeAttr(hid_t loc, const std::string& name, int64_t value) const {
    if (!writeScalarAttr(loc, name, H5T_STD_I64LE, [&](hid_t a) { return H5Awrite(a, H5T_NATIVE_INT64, &value); }))
        writeFailed("attribute " + name);
}

void H5Io::writeAttr(hid_t loc, const std::string& name, double value) const {
    if (!writeScalarAttr(loc, name, H5T_IEEE_F64LE, [&](hid_t a) { return H5Awrite(a, H5T_NATIVE_DOUBLE, &value); }))
        writeFailed("attribute " + name);
}

bool H5Io::exists(hid_t loc, const std::string& path) const {
    // H5Lexists fails instead of answering when an intermediate group is missing, so walk the components.
    std::string prefix = path.starts_with('/') ? "/" : "";
    size_t begin = prefix.size();
    while (begin < path.size()) {
        const size_t end = std::min(path.find('/', begin), path.size());
        prefix += path.substr(begin, end - begin);
        const htri_t found = H5Lexists(loc, prefix.c_str(), H5P_DEFAULT);
        if (found < 0) readFailed(path);
        if (found == 0) return false;
        prefix += '/';
        begin = end + 1;
    }
    return true;
}

H5Group H5Io::openGroup(hid_t loc, const std::string& name) const {
    if (!exists(loc, name)) malformed("group " + name + " is missing");
    H5Group group(H5Gopen2(loc, name.c_str(), H5P_DEFAULT));
    if (!group) readFailed("group " + name);
    return group;
}

H5Dataset H5Io::openDataset(hid_t loc, const std::string& name) const {
    if (!exists(loc, name)) malformed("dataset " + name + " is missing");
    H5Dataset dataset(H5Dopen2(loc, name.c_str(), H5P_DEFAULT));
    if (!dataset) readFailed("dataset " + name);
    return dataset;
}

std::optional<H5Dataset> H5Io::openDatasetIfPresent(hid_t loc, const std::string& name) const {
    if (!exists(loc, name)) return std::nullopt;
    return openDataset(loc, name);
}

H5Dims H5Io::dims(hid_t dataset, const std::string& what) const {
    H5Space space(H5Dget_space(dataset));
    const int rank = space ? H5Sget_simple_extent_ndims(space.get()) : -1;
    if (rank < 0) readFailed("the shape of " + what);
    H5Dims dims(size_t(rank), 0);
    if (rank > 0 && H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0)
        readFailed("the shape of " + what);
    return dims;
}

H5Dataset H5Io::openChecked(hid_t loc, const std::string& name, H5T_class_t cls, const H5Dims& shape, bool half) const {
    H5Dataset dataset = openDataset(loc, name);
    H5Type type(H5Dget_type(dataset.get()));
    if (!type) readFailed("the datatype of " + name);
    const char* expected = cls == H5T_FLOAT     ? (half ? "float16" : "floating-point")
                           : cls == H5T_INTEGER ? "integer"
                                                : "string";
    if (H5Tget_class(type.get()) != cls || (half && !h5IsHalf(type.get())))
        malformed("dataset " + name + " does not hold " + expected + " values");
    const H5Dims actual = dims(dataset.get(), name);
    if (actual != shape)
        malformed("dataset " + name + " has shape " + h5DimsText(actual) + " where " + h5DimsText(shape) +
                  " was expected");
    return dataset;
}

void H5Io::readSlab(hid_t dataset, hid_t memType, const H5Dims& start, const H5Dims& count, void* out,
                    const std::string& what) const {
    H5Space fileSpace(H5Dget_space(dataset));
    H5Space memSpace(H5Screate_simple(int(count.size()), count.data(), nullptr));
    if (!fileSpace || !memSpace ||
        H5Sselect_hyperslab(fileSpace.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr) < 0 ||
        H5Dread(dataset, memType, memSpace.get(), fileSpace.get(), H5P_DEFAULT, out) < 0)
        readFailed(what);
}

void H5Io::readAll(hid_t dataset, hid_t memType, void* out, const std::string& what) const {
    if (H5Dread(dataset, memType, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0) readFailed(what);
}

namespace {

// Reads `count` strings of file type `fileType` through `read(memType, buffer)`, variable-length or fixed.
bool readStringValues(hid_t fileType, size_t count, const std::function<herr_t(hid_t, void*)>& read,
                      std::vector<std::string>& out) {
    if (H5Tget_class(fileType) != H5T_STRING) return false;
    out.assign(count, {});
    const htri_t variable = H5Tis_variable_str(fileType);
    if (variable < 0) return false;
    if (variable) {
        H5Type memType(H5Tcopy(H5T_C_S1));
        if (!memType || H5Tset_size(memType.get(), H5T_VARIABLE) < 0 ||
            H5Tset_cset(memType.get(), H5Tget_cset(fileType)) < 0)
            return false;
        std::vector<char*> pointers(count, nullptr);
        if (read(memType.get(), pointers.data()) < 0) return false;
        for (size_t i = 0; i < count; ++i) {
            if (pointers[i]) out[i] = pointers[i];
            H5free_memory(pointers[i]);
        }
        return true;
    }
    const size_t width = H5Tget_size(fileType);
    std::vector<char> buffer(width * count + 1, '\0');
    if (read(fileType, buffer.data()) < 0) return false;
    for (size_t i = 0; i < count; ++i) {
        const char* begin = buffer.data() + i * width;
        out[i].assign(begin, std::find(begin, begin + width, '\0'));
    }
    return true;
}

} // namespace

std::vector<std::string> H5Io::readStrings(hid_t dataset, const std::string& what) const {
    const H5Dims shape = dims(dataset, what);
    if (shape.size() != 1) malformed("dataset " + what + " is not one-dimensional");
    H5Type type(H5Dget_type(dataset));
    std::vector<std::string> values;
    auto read = [&](hid_t memType, void* buffer) {
        return H5Dread(dataset, memType, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer);
    };
    if (!type || !readStringValues(type.get(), shape[0], read, values)) readFailed(what);
    return values;
}

std::string H5Io::readScalarString(hid_t dataset, const std::string& what) const {
    H5Space space(H5Dget_space(dataset));
    if (!space || H5Sget_simple_extent_npoints(space.get()) != 1) malformed("dataset " + what + " is not one string");
    H5Type type(H5Dget_type(dataset));
    std::vector<std::string> values;
    auto read = [&](hid_t memType, void* buffer) {
        return H5Dread(dataset, memType, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer);
    };
    if (!type || !readStringValues(type.get(), 1, read, values)) readFailed(what);
    return values[0];
}

bool H5Io::hasAttr(hid_t loc, const std::string& name) const {
    const htri_t found = H5Aexists(loc, name.c_str());
    if (found < 0) readFailed("attribute " + name);
    return found > 0;
}

std::string H5Io::readStringAttr(hid_t loc, const std::string& name, const std::string& where) const {
    const std::string what = "attribute '" + name + "' of " + where;
    if (!hasAttr(loc, name)) malformed(what + " is missing");
    H5Attr attr(H5Aopen(loc, name.c_str(), H5P_DEFAULT));
    H5Type type(attr ? H5Aget_type(attr.get()) : H5I_INVALID_HID);
    if (!type) readFailed(what);
    if (H5Tget_class(type.get()) != H5T_STRING) malformed(what + " is not a string");
    std::vector<std::string> values;
    auto read = [&](hid_t memType, void* buffer) { return H5Aread(attr.get(), memType, buffer); };
    if (!readStringValues(type.get(), 1, read, values)) readFailed(what);
    return values[0];
}

int64_t H5Io::readIntAttr(hid_t loc, const std::string& name, const std::string& where) const {
    const std::string what = "attribute '" + name + "' of " + where;
    if (!hasAttr(loc, name)) malformed(what + " is missing");
    H5Attr attr(H5Aopen(loc, name.c_str(), H5P_DEFAULT));
    H5Type type(attr ? H5Aget_type(attr.get()) : H5I_INVALID_HID);
    if (!type) readFailed(what);
    if (H5Tget_class(type.get()) != H5T_INTEGER) malformed(what + " is not an integer");
    int64_t value = 0;
    if (H5Aread(attr.get(), H5T_NATIVE_INT64, &value) < 0) readFailed(what);
    return value;
}

double H5Io::readDoubleAttr(hid_t loc, const std::string& name, const std::string& where) const {
    const std::string what = "attribute '" + name + "' of " + where;
    if (!hasAttr(loc, name)) malformed(what + " is missing");
    H5Attr attr(H5Aopen(loc, name.c_str(), H5P_DEFAULT));
    H5Type type(attr ? H5Aget_type(attr.get()) : H5I_INVALID_HID);
    if (!type) readFailed(what);
    const H5T_class_t cls = H5Tget_class(type.get());
    if (cls != H5T_FLOAT && cls != H5T_INTEGER) malformed(what + " is not a number");
    double value = 0;
    if (H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &value) < 0) readFailed(what);
    return value;
}

std::vector<std::string> H5Io::children(hid_t group, const std::string& what) const {
    std::vector<std::string> names;
    auto collect = [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
        static_cast<std::vector<std::string>*>(data)->emplace_back(name);
        return 0;
    };
    hsize_t index = 0;
    if (H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &index, collect, &names) < 0)
        readFailed("the members of " + what);
    std::sort(names.begin(), names.end());
    return names;
}

} // namespace attnscope::core

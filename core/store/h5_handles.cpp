#include "store/h5_handles.hpp"

#include <stdexcept>

namespace attnscope::core {

void h5Silence() {
    // The thread-safe HDF5 build keeps one error stack (and one auto-print setting) per thread.
    thread_local bool silenced = false;
    if (!silenced) {
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
        silenced = true;
    }
}

namespace {

herr_t keepInnermost(unsigned n, const H5E_error2_t* err, void* data) {
    // Walking upward starts at the function that detected the problem: its message is the useful one.
    if (n == 0 && err && err->desc && *err->desc) *static_cast<std::string*>(data) = err->desc;
    return 0;
}

} // namespace

std::string h5TakeError() {
    std::string message;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keepInnermost, &message);
    H5Eclear2(H5E_DEFAULT);
    while (!message.empty() && (message.back() == '.' || message.back() == '\n' || message.back() == ' '))
        message.pop_back();
    return message;
}

std::string h5Detail() {
    const std::string message = h5TakeError();
    return message.empty() ? std::string() : " (HDF5: " + message + ")";
}

H5Type h5HalfType() {
    // h5py's own recipe: fields first while the type is still 4 bytes wide, then shrink, then the bias.
    H5Type type(H5Tcopy(H5T_IEEE_F32LE));
    if (!type || H5Tset_fields(type.get(), 15, 10, 5, 0, 10) < 0 || H5Tset_size(type.get(), 2) < 0 ||
        H5Tset_ebias(type.get(), 15) < 0)
        throw std::logic_error("HDF5 refused to build the IEEE half datatype" + h5Detail() + ".");
    return type;
}

H5Type h5Utf8Type() {
    H5Type type(H5Tcopy(H5T_C_S1));
    if (!type || H5Tset_size(type.get(), H5T_VARIABLE) < 0 || H5Tset_cset(type.get(), H5T_CSET_UTF8) < 0)
        throw std::logic_error("HDF5 refused to build the UTF-8 string datatype" + h5Detail() + ".");
    return type;
}

bool h5IsHalf(hid_t type) {
    return H5Tget_class(type) == H5T_FLOAT && H5Tget_size(type) == 2;
}

} // namespace attnscope::core

#pragma once
// Owning wrappers for HDF5 ids (closed exactly once, never throwing), the IEEE half type, and HDF5 error text.
// Thread: HDF5 calls are serialised by the caller (one I/O owner); error printing is silenced per thread.
#include <hdf5.h>

#include <string>
#include <utility>

namespace attnscope::core {

// One id and the function that closes it; move-only, like ggml-cpp.h's unique_ptr deleters for its handles.
template <herr_t (*Close)(hid_t)> class H5Handle {
public:
    H5Handle() = default;
    explicit H5Handle(hid_t id) : m_id(id) {}
    ~H5Handle() { reset(); }
    H5Handle(H5Handle&& other) noexcept : m_id(std::exchange(other.m_id, H5I_INVALID_HID)) {}
    H5Handle& operator=(H5Handle&& other) noexcept {
        if (this != &other) {
            reset();
            m_id = std::exchange(other.m_id, H5I_INVALID_HID);
        }
        return *this;
    }
    H5Handle(const H5Handle&) = delete;
    H5Handle& operator=(const H5Handle&) = delete;

    hid_t get() const { return m_id; }
    bool valid() const { return m_id >= 0; }
    explicit operator bool() const { return valid(); }
    // Closes now and reports whether HDF5 accepted the close (a file's close is where its last writes land).
    bool close() {
        if (!valid()) return true;
        const herr_t status = Close(std::exchange(m_id, H5I_INVALID_HID));
        return status >= 0;
    }
    void reset() { close(); }

private:
    hid_t m_id = H5I_INVALID_HID;
};

using H5File = H5Handle<H5Fclose>;
using H5Group = H5Handle<H5Gclose>;
using H5Dataset = H5Handle<H5Dclose>;
using H5Space = H5Handle<H5Sclose>;
using H5Type = H5Handle<H5Tclose>;
using H5Plist = H5Handle<H5Pclose>;
using H5Attr = H5Handle<H5Aclose>;

// Turns off HDF5's automatic printing of error stacks on this thread; we turn failures into typed errors instead.
void h5Silence();

// The most specific message on this thread's HDF5 error stack (e.g. "truncated file: eof = ..."), then clears it.
// Empty when the stack is empty.
std::string h5TakeError();

// " (detail)" when HDF5 left a message, else "": appended before the final period of our sentences.
std::string h5Detail();

// IEEE 754 binary16, little-endian, built the way h5py builds its float16 so that h5py reads it as numpy float16.
H5Type h5HalfType();
// Variable-length UTF-8 C string.
H5Type h5Utf8Type();

// True when `type` is a 2-byte floating-point type (how we recognise float16 in a file).
bool h5IsHalf(hid_t type);

} // namespace attnscope::core

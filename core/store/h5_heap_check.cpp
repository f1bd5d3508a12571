#include "store/h5_heap_check.hpp"

#include <cstring>
#include <fstream>
#include <map>

namespace attnscope::core {

namespace {

// Layout from the HDF5 file format specification (version 1 global heap collection, 8-byte addresses and lengths).
constexpr size_t kCollectionHeader = 16; // "GCOL", version, 3 reserved, collection size
constexpr size_t kObjectHeader = 16;     // index (2), reference count (2), reserved (4), size (8)
constexpr size_t kHeapId = 16;           // sequence length (4), collection address (8), object index (4)

template <typename T> T load(const char* p) {
    T value;
    std::memcpy(&value, p, sizeof value); // the file is little-endian, as is every machine we build for
    return value;
}

class HeapChecker {
public:
    HeapChecker(const H5Io& io, std::string what)
        : m_io(io), m_what(std::move(what)), m_in(io.file(), std::ios::binary) {
        m_in.seekg(0, std::ios::end);
        m_fileSize = uint64_t(m_in.tellg());
    }

    std::string read(uint64_t address, uint64_t size) {
        if (!m_in || address > m_fileSize || size > m_fileSize - address) fail("points past the end of the file");
        std::string bytes(size_t(size), '\0');
        m_in.seekg(std::streamoff(address));
        m_in.read(bytes.data(), std::streamsize(size));
        if (!m_in) fail("cannot be read");
        return bytes;
    }

    // Object sizes by index of the collection at `address`, after checking that its objects tile it exactly.
    const std::map<uint32_t, uint64_t>& collection(uint64_t address) {
        if (auto it = m_collections.find(address); it != m_collections.end()) return it->second;
        const std::string header = read(address, kCollectionHeader);
        if (header.compare(0, 4, "GCOL") != 0 || header[4] != 1) fail("points to something that is not a heap");
        const uint64_t size = load<uint64_t>(header.data() + 8);
        if (size < kCollectionHeader) fail("points to a heap of impossible size");
        const std::string heap = read(address, size);
        std::map<uint32_t, uint64_t> objects;
        uint64_t pos = kCollectionHeader;
        while (pos < size) {
            if (size - pos < kObjectHeader) break; // HDF5 treats a tail too small for a header as free space
            const uint16_t index = load<uint16_t>(heap.data() + pos);
            const uint64_t objectSize = load<uint64_t>(heap.data() + pos + 8);
            // Object 0 is the free space and its size includes its own header; the others are padded to 8 bytes.
            const uint64_t need = index == 0 ? objectSize : kObjectHeader + ((objectSize + 7) & ~uint64_t(7));
            if (need < kObjectHeader || objectSize > size || need > size - pos) fail("points into a damaged heap");
            if (index != 0) objects[index] = objectSize;
            pos += need;
        }
        return m_collections[address] = std::move(objects);
    }

    [[noreturn]] void fail(const std::string& problem) const {
        m_io.malformed("the variable-length data of " + m_what + " " + problem);
    }

private:
    const H5Io& m_io;
    std::string m_what;
    std::ifstream m_in;
    uint64_t m_fileSize = 0;
    std::map<uint64_t, std::map<uint32_t, uint64_t>> m_collections;
};

} // namespace

void h5CheckVlenHeap(const H5Io& io, hid_t file, hid_t dataset, const std::string& what) {
    H5Plist fcpl(H5Fget_create_plist(file));
    size_t addressSize = 0, lengthSize = 0;
    hsize_t userblock = 0;
    if (!fcpl || H5Pget_sizes(fcpl.get(), &addressSize, &lengthSize) < 0 ||
        H5Pget_userblock(fcpl.get(), &userblock) < 0 || addressSize != 8 || lengthSize != 8) {
        H5Eclear2(H5E_DEFAULT);
        return;
    }
    H5Type type(H5Dget_type(dataset));
    if (!type || H5Tis_variable_str(type.get()) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return;
    }
    H5Space space(H5Dget_space(dataset));
    const hssize_t count = space ? H5Sget_simple_extent_npoints(space.get()) : -1;
    const haddr_t offset = H5Dget_offset(dataset); // undefined for chunked or compact storage, or nothing written
    H5Eclear2(H5E_DEFAULT);
    if (count <= 0 || offset == HADDR_UNDEF) return;
    if (H5Dget_storage_size(dataset) != hsize_t(count) * kHeapId)
        io.malformed("dataset " + what + " holds a different number of bytes than its strings need");

    HeapChecker checker(io, what);
    const std::string ids = checker.read(uint64_t(offset) + userblock, uint64_t(count) * kHeapId);
    for (hssize_t i = 0; i < count; ++i) {
        const char* id = ids.data() + size_t(i) * kHeapId;
        const uint32_t length = load<uint32_t>(id);
        const uint64_t collection = load<uint64_t>(id + 4);
        const uint32_t index = load<uint32_t>(id + 12);
        if (length == 0) continue; // HDF5 reads no heap object for an empty string
        const auto& objects = checker.collection(collection + userblock);
        const auto found = objects.find(index);
        // HDF5 copies the whole heap object into a buffer sized by the element's length: they must agree.
        if (found == objects.end() || found->second != length)
            checker.fail("refers to a missing or mismatched heap object (element " + std::to_string(i) + ")");
    }
}

} // namespace attnscope::core

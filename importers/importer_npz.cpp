#include "importer_npz.hpp"

#include "errors.hpp"
#include "model/mapped_file.hpp"
#include "npy_format.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <cstring>
#include <limits>

namespace attnscope::importers {

using core::FormatError;
using core::UnsupportedError;

namespace {

constexpr uint32_t kEndOfDirectory = 0x06054b50, kDirectoryEntry = 0x02014b50, kLocalHeader = 0x04034b50;
constexpr uint32_t kZip64EndOfDirectory = 0x06064b50, kZip64Locator = 0x07064b50;

uint64_t le(const uint8_t* p, int bytes) {
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i)
        v = v << 8 | p[i];
    return v;
}

struct Entry {
    std::string name;
    uint16_t method = 0, flags = 0;
    uint32_t crc = 0;
    uint64_t compressed = 0, size = 0, localOffset = 0;
};

class ZipView {
public:
    ZipView(const uint8_t* data, size_t size, std::string file) : m_data(data), m_size(size), m_file(std::move(file)) {}

    [[noreturn]] void damaged(const std::string& problem) const {
        throw FormatError(fmt::format("'{}' is not a readable .npz archive: {}.", m_file, problem));
    }
    const uint8_t* at(uint64_t offset, uint64_t bytes, const char* what) const {
        if (offset > m_size || bytes > m_size - offset)
            damaged(fmt::format("its {} lies past the end of the file (truncated?)", what));
        return m_data + offset;
    }

    std::vector<Entry> entries() const {
        // The end-of-directory record sits in the last 22 + 65535 (comment) bytes.
        if (m_size < 22) damaged("it is shorter than a zip directory (truncated?)");
        int64_t eocd = -1;
        for (int64_t p = int64_t(m_size) - 22; p >= 0 && p >= int64_t(m_size) - 22 - 65535; --p)
            if (le(m_data + p, 4) == kEndOfDirectory) {
                eocd = p;
                break;
            }
        if (eocd < 0) damaged("it has no zip directory at its end (truncated?)");
        const uint8_t* e = m_data + eocd;
        uint64_t count = le(e + 10, 2), dirSize = le(e + 12, 4), dirOffset = le(e + 16, 4);
        if (count == 0xffff || dirOffset == 0xffffffff) {
            // Zip64: the locator just before the record points at the 64-bit end of directory.
            if (eocd < 20 || le(m_data + eocd - 20, 4) != kZip64Locator) damaged("its zip64 locator is missing");
            const uint8_t* z = at(le(m_data + eocd - 20 + 8, 8), 56, "zip64 directory");
            if (le(z, 4) != kZip64EndOfDirectory) damaged("its zip64 directory record is damaged");
            count = le(z + 32, 8), dirSize = le(z + 40, 8), dirOffset = le(z + 48, 8);
        }
        const uint8_t* p = at(dirOffset, dirSize, "directory");
        const uint8_t* end = p + dirSize;
        std::vector<Entry> out;
        for (uint64_t i = 0; i < count; ++i) {
            if (end - p < 46 || le(p, 4) != kDirectoryEntry) damaged("its directory is damaged");
            Entry en;
            en.flags = uint16_t(le(p + 8, 2));
            en.method = uint16_t(le(p + 10, 2));
            en.crc = uint32_t(le(p + 16, 4));
            en.compressed = le(p + 20, 4), en.size = le(p + 24, 4), en.localOffset = le(p + 42, 4);
            const size_t nameLen = le(p + 28, 2), extraLen = le(p + 30, 2), commentLen = le(p + 32, 2);
            if (size_t(end - p) < 46 + nameLen + extraLen + commentLen) damaged("its directory is damaged");
            en.name.assign(reinterpret_cast<const char*>(p + 46), nameLen);
            readZip64Extra(p + 46 + nameLen, extraLen, en);
            out.push_back(std::move(en));
            p += 46 + nameLen + extraLen + commentLen;
        }
        return out;
    }

    // The entry's uncompressed bytes, CRC-checked.
    std::vector<uint8_t> extract(const Entry& en) const {
        const std::string origin = m_file + ":" + en.name;
        if (en.flags & 1)
            throw UnsupportedError(fmt::format("'{}' is encrypted, which attnscope does not read.", origin));
        const uint8_t* local = at(en.localOffset, 30, "entry header");
        if (le(local, 4) != kLocalHeader) damaged(fmt::format("the header of entry '{}' is damaged", en.name));
        const uint64_t dataOffset = en.localOffset + 30 + le(local + 26, 2) + le(local + 28, 2);
        const uint8_t* src = at(dataOffset, en.compressed, ("data of entry '" + en.name + "'").c_str());
        if (en.size > std::numeric_limits<size_t>::max() / 2) damaged("an entry is impossibly large");
        std::vector<uint8_t> out(en.size);
        if (en.method == 0) {
            if (en.compressed != en.size) damaged(fmt::format("stored entry '{}' has two different sizes", en.name));
            std::memcpy(out.data(), src, en.size);
        } else if (en.method == 8) {
            inflateRaw(src, en.compressed, out, en.name);
        } else {
            throw UnsupportedError(fmt::format("'{}' is compressed with zip method {}, which attnscope does not read "
                                               "(numpy.savez and savez_compressed use 0 and 8).",
                                               origin, en.method));
        }
        uLong crc = crc32(0L, Z_NULL, 0);
        for (uint64_t done = 0; done < en.size;) {
            const uInt chunk = uInt(std::min<uint64_t>(en.size - done, 1u << 30));
            crc = crc32(crc, out.data() + done, chunk);
            done += chunk;
        }
        if (uint32_t(crc) != en.crc) damaged(fmt::format("entry '{}' fails its CRC check (corrupted)", en.name));
        return out;
    }

private:
    void readZip64Extra(const uint8_t* p, size_t len, Entry& en) const {
        for (size_t off = 0; off + 4 <= len;) {
            const uint64_t id = le(p + off, 2), size = le(p + off + 2, 2);
            if (off + 4 + size > len) break;
            if (id == 0x0001) {
                const uint8_t* f = p + off + 4;
                size_t used = 0;
                // Only the fields whose 32-bit value is 0xffffffff are present, in this order.
                for (uint64_t* field : {&en.size, &en.compressed, &en.localOffset})
                    if (*field == 0xffffffff && used + 8 <= size) *field = le(f + used, 8), used += 8;
            }
            off += 4 + size;
        }
    }

    void inflateRaw(const uint8_t* src, uint64_t srcSize, std::vector<uint8_t>& out, const std::string& name) const {
        z_stream z{};
        if (inflateInit2(&z, -MAX_WBITS) != Z_OK) damaged("zlib could not start");
        uint64_t inDone = 0, outDone = 0;
        int status = Z_OK;
        while (status == Z_OK) {
            const uInt inChunk = uInt(std::min<uint64_t>(srcSize - inDone, 1u << 30));
            const uInt outChunk = uInt(std::min<uint64_t>(out.size() - outDone, 1u << 30));
            z.next_in = const_cast<Bytef*>(src + inDone), z.avail_in = inChunk;
            z.next_out = out.data() + outDone, z.avail_out = outChunk;
            status = inflate(&z, Z_NO_FLUSH);
            inDone += inChunk - z.avail_in, outDone += outChunk - z.avail_out;
            if (status == Z_OK && z.avail_in == inChunk && z.avail_out == outChunk) status = Z_BUF_ERROR; // no progress
        }
        inflateEnd(&z);
        if (status != Z_STREAM_END || outDone != out.size())
            damaged(fmt::format("entry '{}' does not inflate to its announced {} bytes (truncated or corrupted)", name,
                                out.size()));
    }

    const uint8_t* m_data;
    size_t m_size;
    std::string m_file;
};

} // namespace

std::vector<ImportedArray> readNpz(const std::filesystem::path& path) {
    const core::MappedFile file(path);
    const ZipView zip(file.data(), file.size(), path.string());
    std::vector<ImportedArray> arrays;
    for (const Entry& en : zip.entries()) {
        if (en.name.empty() || en.name.back() == '/') continue; // folders
        const std::vector<uint8_t> bytes = zip.extract(en);
        ImportedArray a = parseNpy(bytes.data(), bytes.size(), path.string() + ":" + en.name);
        a.name = en.name.size() > 4 && en.name.ends_with(".npy") ? en.name.substr(0, en.name.size() - 4) : en.name;
        arrays.push_back(std::move(a));
    }
    if (arrays.empty())
        throw FormatError(fmt::format("'{}' is an empty .npz archive: it holds no arrays.", path.string()));
    return arrays;
}

} // namespace attnscope::importers

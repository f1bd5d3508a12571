#include "npy_format.hpp"

#include "errors.hpp"
#include "model/mapped_file.hpp"
#include "model/tensor_data.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cctype>
#include <cstring>
#include <limits>

namespace attnscope::importers {

using core::FormatError;
using core::UnsupportedError;

std::string shapeText(const std::vector<int64_t>& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

bool naturalLess(const std::string& a, const std::string& b) {
    size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
        if (std::isdigit(uint8_t(a[i])) && std::isdigit(uint8_t(b[j]))) {
            size_t i1 = i, j1 = j;
            while (i1 < a.size() && std::isdigit(uint8_t(a[i1])))
                ++i1;
            while (j1 < b.size() && std::isdigit(uint8_t(b[j1])))
                ++j1;
            // Compare digit runs by value: strip leading zeros, then longer is larger, then lexicographic.
            size_t i0 = i, j0 = j;
            while (i0 + 1 < i1 && a[i0] == '0')
                ++i0;
            while (j0 + 1 < j1 && b[j0] == '0')
                ++j0;
            if (i1 - i0 != j1 - j0) return i1 - i0 < j1 - j0;
            const int c = a.compare(i0, i1 - i0, b, j0, j1 - j0);
            if (c != 0) return c < 0;
            i = i1, j = j1;
        } else {
            if (a[i] != b[j]) return a[i] < b[j];
            ++i, ++j;
        }
    }
    return a.size() - i < b.size() - j;
}

namespace {

// The value of 'key' in the header's Python dict literal, as its raw text up to the next top-level comma or brace.
std::string headerValue(const std::string& header, const std::string& key, const std::string& origin) {
    const size_t at = header.find("'" + key + "'");
    if (at == std::string::npos)
        throw FormatError(fmt::format("'{}' is not a valid .npy array: its header has no '{}'.", origin, key));
    size_t p = header.find(':', at);
    if (p == std::string::npos)
        throw FormatError(fmt::format("'{}' is not a valid .npy array: its header is damaged.", origin));
    ++p;
    while (p < header.size() && header[p] == ' ')
        ++p;
    size_t end = p;
    int depth = 0;
    while (end < header.size()) {
        const char c = header[end];
        if (c == '(') ++depth;
        if (c == ')') --depth;
        if (depth == 0 && (c == ',' || c == '}')) break;
        ++end;
    }
    return header.substr(p, end - p);
}

struct Descr {
    char kind = 'f'; // 'f' float, 'i' signed, 'u' unsigned
    size_t bytes = 4;
};

Descr parseDescr(std::string d, const std::string& origin) {
    if (d.size() < 2 || (d.front() != '\'' && d.front() != '"'))
        throw UnsupportedError(fmt::format(
            "'{}' holds a structured NumPy array ({}), which attnscope does not import (plain float arrays only).",
            origin, d));
    d = d.substr(1, d.size() - 2);
    if (d.size() < 3) throw FormatError(fmt::format("'{}' has an unreadable dtype '{}'.", origin, d));
    const char order = d[0];
    Descr r;
    r.kind = d[1];
    r.bytes = size_t(std::atoi(d.c_str() + 2));
    const bool known = (r.kind == 'f' && (r.bytes == 2 || r.bytes == 4 || r.bytes == 8)) ||
                       ((r.kind == 'i' || r.kind == 'u') && (r.bytes == 1 || r.bytes == 2 || r.bytes == 4 || r.bytes == 8));
    if (!known)
        throw UnsupportedError(fmt::format("'{}' holds NumPy dtype '{}', which attnscope does not import (float16, "
                                           "float32, float64 and integers are read).",
                                           origin, d));
    if (order == '>' && r.bytes > 1)
        throw UnsupportedError(
            fmt::format("'{}' is big-endian (dtype '{}'); save it little-endian (array.astype('<f4')).", origin, d));
    return r;
}

std::vector<int64_t> parseShape(const std::string& s, const std::string& origin) {
    if (s.empty() || s.front() != '(' || s.back() != ')')
        throw FormatError(fmt::format("'{}' is not a valid .npy array: its shape '{}' is not a tuple.", origin, s));
    std::vector<int64_t> shape;
    int64_t numel = 1;
    for (size_t p = 1; p + 1 < s.size();) {
        while (p + 1 < s.size() && (s[p] == ' ' || s[p] == ','))
            ++p;
        if (p + 1 >= s.size()) break;
        char* end = nullptr;
        const long long v = std::strtoll(s.c_str() + p, &end, 10);
        if (end == s.c_str() + p || v < 0)
            throw FormatError(fmt::format("'{}' is not a valid .npy array: its shape '{}' is damaged.", origin, s));
        if (v > 0 && numel > std::numeric_limits<int64_t>::max() / 8 / v)
            throw FormatError(fmt::format("'{}' is not a valid .npy array: its shape {} is impossible.", origin, s));
        numel *= v;
        shape.push_back(v);
        p = size_t(end - s.c_str());
    }
    return shape;
}

template <typename T> float load(const uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return float(v);
}

} // namespace

ImportedArray parseNpy(const uint8_t* data, size_t size, const std::string& origin) {
    if (size < 10 || std::memcmp(data, "\x93NUMPY", 6) != 0)
        throw FormatError(fmt::format("'{}' is not a .npy array (no \\x93NUMPY magic).", origin));
    const int major = data[6];
    size_t headerLen = 0, headerStart = 0;
    if (major == 1) {
        headerLen = size_t(data[8]) | size_t(data[9]) << 8;
        headerStart = 10;
    } else if (major == 2 || major == 3) {
        if (size < 12) throw FormatError(fmt::format("'{}' is truncated inside its .npy header.", origin));
        headerLen = size_t(data[8]) | size_t(data[9]) << 8 | size_t(data[10]) << 16 | size_t(data[11]) << 24;
        headerStart = 12;
    } else {
        throw UnsupportedError(fmt::format("'{}' is a .npy array of format version {}, which attnscope does not read "
                                           "(versions 1 to 3).",
                                           origin, major));
    }
    if (headerStart + headerLen > size)
        throw FormatError(fmt::format("'{}' is truncated inside its .npy header.", origin));
    const std::string header(reinterpret_cast<const char*>(data + headerStart), headerLen);
    const Descr descr = parseDescr(headerValue(header, "descr", origin), origin);
    if (headerValue(header, "fortran_order", origin) != "False")
        throw UnsupportedError(fmt::format(
            "'{}' is a Fortran-ordered .npy array; save it in C order (numpy.ascontiguousarray).", origin));
    ImportedArray a;
    a.origin = origin;
    a.shape = parseShape(headerValue(header, "shape", origin), origin);
    a.floating = descr.kind == 'f';
    const int64_t n = a.numel();
    const size_t need = size_t(n) * descr.bytes, have = size - headerStart - headerLen;
    if (have < need)
        throw FormatError(fmt::format("'{}' is truncated: its .npy header announces {} of {} bytes but {} bytes follow.",
                                      origin, shapeText(a.shape), need, have));
    const uint8_t* p = data + headerStart + headerLen;
    a.values.resize(size_t(n));
    for (int64_t i = 0; i < n; ++i, p += descr.bytes) {
        float& v = a.values[size_t(i)];
        if (descr.kind == 'f')
            v = descr.bytes == 2 ? core::halfToFloat(uint16_t(p[0] | p[1] << 8))
                : descr.bytes == 4 ? load<float>(p)
                                   : load<double>(p);
        else if (descr.kind == 'i')
            v = descr.bytes == 1 ? load<int8_t>(p) : descr.bytes == 2 ? load<int16_t>(p)
                : descr.bytes == 4 ? load<int32_t>(p) : load<int64_t>(p);
        else
            v = descr.bytes == 1 ? load<uint8_t>(p) : descr.bytes == 2 ? load<uint16_t>(p)
                : descr.bytes == 4 ? load<uint32_t>(p) : load<uint64_t>(p);
    }
    return a;
}

ImportedArray readNpy(const std::filesystem::path& path) {
    const core::MappedFile file(path);
    return parseNpy(file.data(), file.size(), path.string());
}

std::string npyBytes(const std::vector<int64_t>& shape, const std::vector<double>& values, NpyType type) {
    const char* descr = type == NpyType::Float64 ? "<f8" : type == NpyType::Float32 ? "<f4" : "<i4";
    std::string dims;
    for (int64_t d : shape)
        dims += std::to_string(d) + ", ";
    if (!dims.empty()) dims.pop_back();                    // "(3,)" for one axis
    if (shape.size() > 1) dims.pop_back();                 // "(3, 4)" for more
    std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}", descr, dims);
    // Version 1.0: the magic, version and length (10 bytes) plus the header pad to a multiple of 64, ending in '\n'.
    header.append(63 - (10 + header.size()) % 64, ' ');
    header.push_back('\n');
    std::string out("\x93NUMPY\x01\x00", 8);
    out.push_back(char(header.size() & 0xff));
    out.push_back(char(header.size() >> 8));
    out += header;
    for (double v : values) {
        if (type == NpyType::Float64) out.append(reinterpret_cast<const char*>(&v), 8);
        else if (type == NpyType::Float32) {
            const float f = float(v);
            out.append(reinterpret_cast<const char*>(&f), 4);
        } else {
            const int32_t i = int32_t(v);
            out.append(reinterpret_cast<const char*>(&i), 4);
        }
    }
    return out;
}

} // namespace attnscope::importers

#include "model/gguf_file.hpp"

#include "errors.hpp"
#include "model/mapped_file.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <limits>
#include <set>

namespace attnscope::core {

namespace {

// GGUF metadata value types (gguf.h, gguf_type).
enum ValueType : uint32_t { U8, I8, U16, I16, U32, I32, F32, Bool, String, Array, U64, I64, F64 };

// Nested arrays deeper than this are not produced by any converter; the cap keeps recursion bounded.
constexpr int kMaxArrayDepth = 8;
constexpr uint32_t kMaxDims = 4; // GGML_MAX_DIMS
// ggml uses 32; a cap keeps the aligned data offset from overflowing on a corrupted value.
constexpr uint64_t kMaxAlignment = uint64_t{1} << 24;

const char* ggmlTypeName(uint32_t t) {
    static const char* const names[] = {"F32",     "F16",    "Q4_0",    "Q4_1",  "Q4_2",   "Q4_3",  "Q5_0",  "Q5_1",
                                        "Q8_0",    "Q8_1",   "Q2_K",    "Q3_K",  "Q4_K",   "Q5_K",  "Q6_K",  "Q8_K",
                                        "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS",
                                        "I8",      "I16",    "I32",     "I64",   "F64",    "IQ1_M", "BF16"};
    return t < std::size(names) ? names[t] : nullptr;
}

bool supportedGgmlType(uint32_t t, DType& out) {
    switch (t) {
    case 0:
        out = DType::F32;
        return true;
    case 1:
        out = DType::F16;
        return true;
    case 8:
        out = DType::Q8_0;
        return true;
    case 30:
        out = DType::BF16;
        return true;
    default:
        return false;
    }
}

// Bounds-checked little-endian reader over the mapped bytes: every length is checked before it is used.
class Reader {
public:
    Reader(const MappedFile& file, std::string label)
        : m_data(file.data()), m_size(file.size()), m_label(std::move(label)) {}

    size_t pos() const { return m_pos; }
    size_t remaining() const { return m_size - m_pos; }

    void need(uint64_t n, std::string_view what) const {
        if (n > remaining())
            throw FormatError(fmt::format("'{}' is truncated: {} at byte {} needs {} bytes but the file has {} bytes.",
                                          m_label, what, m_pos, n, m_size));
    }

    template <typename T> T read(std::string_view what) {
        need(sizeof(T), what);
        T v;
        std::memcpy(&v, m_data + m_pos, sizeof(T));
        m_pos += sizeof(T);
        return v;
    }

    std::string readString(std::string_view what) {
        const size_t at = m_pos;
        const auto len = read<uint64_t>(what);
        if (len > remaining())
            throw FormatError(
                fmt::format("'{}' is truncated or corrupted: {} at byte {} claims a string of {} bytes but only {} "
                            "bytes follow.",
                            m_label, what, at, len, remaining()));
        std::string s(reinterpret_cast<const char*>(m_data + m_pos), static_cast<size_t>(len));
        m_pos += static_cast<size_t>(len);
        return s;
    }

    nlohmann::json readValue(uint32_t type, std::string_view what, int depth) {
        switch (type) {
        case U8:
            return read<uint8_t>(what);
        case I8:
            return read<int8_t>(what);
        case U16:
            return read<uint16_t>(what);
        case I16:
            return read<int16_t>(what);
        case U32:
            return read<uint32_t>(what);
        case I32:
            return read<int32_t>(what);
        case F32:
            return read<float>(what);
        case Bool:
            return read<uint8_t>(what) != 0;
        case String:
            return readString(what);
        case U64:
            return read<uint64_t>(what);
        case I64:
            return read<int64_t>(what);
        case F64:
            return read<double>(what);
        case Array:
            return readArray(what, depth);
        default:
            throw FormatError(
                fmt::format("'{}' is corrupted: {} at byte {} has unknown value type {}.", m_label, what, m_pos, type));
        }
    }

private:
    static uint64_t minValueBytes(uint32_t type) {
        switch (type) {
        case U8:
        case I8:
        case Bool:
            return 1;
        case U16:
        case I16:
            return 2;
        case U32:
        case I32:
        case F32:
            return 4;
        case U64:
        case I64:
        case F64:
        case String:
            return 8;
        case Array:
            return 12;
        default:
            return 1;
        }
    }

    nlohmann::json readArray(std::string_view what, int depth) {
        if (depth >= kMaxArrayDepth)
            throw FormatError(
                fmt::format("'{}' is corrupted: {} nests arrays more than {} deep.", m_label, what, kMaxArrayDepth));
        const auto elemType = read<uint32_t>(what);
        const size_t at = m_pos;
        const auto count = read<uint64_t>(what);
        // Reject counts the file cannot hold before reserving anything.
        if (count > remaining() / minValueBytes(elemType))
            throw FormatError(
                fmt::format("'{}' is truncated or corrupted: {} at byte {} claims {} array elements, more than the "
                            "{} bytes that follow can hold.",
                            m_label, what, at, count, remaining()));
        nlohmann::json arr = nlohmann::json::array();
        arr.get_ref<nlohmann::json::array_t&>().reserve(static_cast<size_t>(count));
        for (uint64_t i = 0; i < count; ++i)
            arr.push_back(readValue(elemType, what, depth + 1));
        return arr;
    }

    const uint8_t* m_data;
    size_t m_size;
    std::string m_label;
    size_t m_pos = 0;
};

} // namespace

GgufFile::GgufFile(const std::filesystem::path& path)
    : m_path(path), m_file(std::make_shared<MappedFile>(path)), m_metadata(std::make_unique<nlohmann::json>()) {
    const std::string label = path.string();
    Reader r(*m_file, label);
    const auto magic = r.read<uint32_t>("the magic number");
    if (magic != 0x46554747) // "GGUF" read as a little-endian uint32
        throw FormatError(fmt::format("'{}' is not a GGUF file: it does not start with the bytes \"GGUF\".", label));
    m_version = r.read<uint32_t>("the version");
    if (m_version == 1)
        throw UnsupportedError(fmt::format("'{}' is a GGUF version 1 file, which attnscope does not read (convert it "
                                           "again with a current llama.cpp to get version 3).",
                                           label));
    if (m_version != 2 && m_version != 3)
        throw UnsupportedError(fmt::format("'{}' has GGUF version {}; attnscope reads versions 2 and 3 (a "
                                           "big-endian file also shows up this way).",
                                           label, m_version));
    const auto tensorCount = r.read<uint64_t>("the tensor count");
    const auto kvCount = r.read<uint64_t>("the metadata count");

    auto& md = *m_metadata;
    md = nlohmann::json::object();
    for (uint64_t i = 0; i < kvCount; ++i) {
        const std::string key = r.readString(fmt::format("metadata key {}", i));
        const std::string what = fmt::format("the value of '{}'", key);
        const auto type = r.read<uint32_t>(what);
        if (md.contains(key))
            throw FormatError(fmt::format("'{}' is corrupted: the metadata key '{}' appears twice.", label, key));
        md[key] = r.readValue(type, what, 0);
    }

    uint64_t alignment = 32;
    if (auto it = md.find("general.alignment"); it != md.end()) {
        const uint64_t a = it->is_number_unsigned() ? it->get<uint64_t>() : 0;
        if (a == 0 || (a & (a - 1)) != 0 || a > kMaxAlignment)
            throw FormatError(fmt::format("'{}' has a general.alignment of {}, which is not a power of two up to {}.",
                                          label, it->dump(), kMaxAlignment));
        alignment = a;
    }

    struct Info {
        std::string name;
        std::vector<int64_t> shape;
        DType dtype;
        uint64_t offset;
        size_t bytes;
    };
    std::vector<Info> infos;
    std::set<std::string> names;
    for (uint64_t i = 0; i < tensorCount; ++i) {
        Info info;
        info.name = r.readString(fmt::format("the name of tensor {}", i));
        const std::string what = fmt::format("the description of tensor '{}'", info.name);
        const auto nDims = r.read<uint32_t>(what);
        if (nDims == 0 || nDims > kMaxDims)
            throw FormatError(fmt::format("'{}' is corrupted: tensor '{}' claims {} dimensions (1 to {} allowed).",
                                          label, info.name, nDims, kMaxDims));
        std::vector<int64_t> ne(nDims);
        int64_t numel = 1;
        for (auto& d : ne) {
            const auto v = r.read<uint64_t>(what);
            // Every element takes at least one byte, so the file size bounds the element count (and tensorBytes).
            if (v == 0 || v > m_file->size() / static_cast<uint64_t>(numel))
                throw FormatError(fmt::format(
                    "'{}' is truncated or corrupted: tensor '{}' has a dimension of {}, which is zero or makes "
                    "it larger than the whole file.",
                    label, info.name, v));
            d = static_cast<int64_t>(v);
            numel *= d;
        }
        const auto ggmlType = r.read<uint32_t>(what);
        if (!supportedGgmlType(ggmlType, info.dtype)) {
            const char* typeName = ggmlTypeName(ggmlType);
            throw UnsupportedError(fmt::format(
                "'{}' stores tensor '{}' as {}, which attnscope does not read "
                "(F32, F16, BF16 and Q8_0 are supported).",
                label, info.name, typeName ? std::string(typeName) : fmt::format("ggml type {}", ggmlType)));
        }
        if (info.dtype == DType::Q8_0 && ne[0] % 32 != 0)
            throw FormatError(fmt::format("'{}' is corrupted: Q8_0 tensor '{}' has rows of {} elements, not a multiple "
                                          "of 32.",
                                          label, info.name, ne[0]));
        info.offset = r.read<uint64_t>(what);
        if (!names.insert(info.name).second)
            throw FormatError(fmt::format("'{}' is corrupted: tensor '{}' appears twice.", label, info.name));
        info.shape.assign(ne.rbegin(), ne.rend()); // ne[0] is the innermost axis: PyTorch order reverses it
        info.bytes = tensorBytes(info.dtype, numel);
        infos.push_back(std::move(info));
    }

    const uint64_t dataStart = (r.pos() + alignment - 1) / alignment * alignment;
    const size_t fileSize = m_file->size();
    for (auto& info : infos) {
        if (info.offset % alignment != 0)
            throw FormatError(fmt::format("'{}' is corrupted: tensor '{}' starts at data offset {}, which is not a "
                                          "multiple of the alignment {}.",
                                          label, info.name, info.offset, alignment));
        if (info.offset > fileSize || info.bytes > fileSize || dataStart + info.offset + info.bytes > fileSize)
            throw FormatError(fmt::format("'{}' is truncated: tensor '{}' ends at byte {} but the file has {} bytes.",
                                          label, info.name, dataStart + info.offset + info.bytes, fileSize));
        RawTensor t;
        t.dtype = info.dtype;
        t.shape = std::move(info.shape);
        t.data = m_file->data() + dataStart + info.offset;
        t.nbytes = info.bytes;
        t.owner = m_file;
        t.file = label;
        m_tensors.emplace(info.name, std::move(t));
    }
}

GgufFile::~GgufFile() = default;

const nlohmann::json& GgufFile::metadata() const {
    return *m_metadata;
}

} // namespace attnscope::core

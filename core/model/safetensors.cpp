#include "model/safetensors.hpp"

#include "errors.hpp"
#include "model/mapped_file.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>
#include <limits>
#include <unistd.h>

namespace attnscope::core {

namespace {

bool parseDtype(const std::string& s, DType& out) {
    static const std::pair<const char*, DType> known[] = {{"F32", DType::F32},   {"F16", DType::F16},
                                                          {"BF16", DType::BF16}, {"I32", DType::I32},
                                                          {"I64", DType::I64},   {"U8", DType::U8}};
    for (const auto& [name, dtype] : known)
        if (s == name) {
            out = dtype;
            return true;
        }
    return false;
}

std::vector<int64_t> parseShape(const nlohmann::json& j, const std::string& label, const std::string& name) {
    if (!j.is_array())
        throw FormatError(fmt::format("'{}' has a corrupted header: tensor '{}' has no \"shape\" array.", label, name));
    std::vector<int64_t> shape;
    int64_t numel = 1;
    for (const auto& d : j) {
        if (!d.is_number_unsigned() || d.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
            throw FormatError(
                fmt::format("'{}' has a corrupted header: tensor '{}' has shape {}.", label, name, j.dump()));
        const auto v = d.get<int64_t>();
        if (v != 0 && numel > std::numeric_limits<int64_t>::max() / 8 / v)
            throw FormatError(fmt::format("'{}' has a corrupted header: tensor '{}' has an impossible shape {}.", label,
                                          name, j.dump()));
        numel *= v;
        shape.push_back(v);
    }
    return shape;
}

} // namespace

TensorSet readSafetensors(const std::filesystem::path& file, std::map<std::string, std::string>* metadata) {
    auto mapped = std::make_shared<MappedFile>(file);
    const std::string label = file.string();
    const size_t size = mapped->size();
    if (size < 8)
        throw FormatError(
            fmt::format("'{}' is truncated: it has {} bytes, fewer than the 8-byte header length.", label, size));
    uint64_t headerLen;
    std::memcpy(&headerLen, mapped->data(), 8);
    if (headerLen > size - 8)
        throw FormatError(fmt::format("'{}' is truncated or not a safetensors file: its header claims {} bytes but the "
                                      "file has only {} bytes after the length.",
                                      label, headerLen, size - 8));
    const char* headerBegin = reinterpret_cast<const char*>(mapped->data() + 8);
    nlohmann::json header;
    try {
        header = nlohmann::json::parse(headerBegin, headerBegin + headerLen);
    } catch (const nlohmann::json::exception& e) {
        throw FormatError(fmt::format("'{}' has a corrupted header: it is not valid JSON ({}).", label, e.what()));
    }
    if (!header.is_object())
        throw FormatError(fmt::format("'{}' has a corrupted header: it is not a JSON object.", label));

    const uint64_t dataStart = 8 + headerLen;
    const uint64_t dataSize = size - dataStart;
    TensorSet tensors;
    for (const auto& [name, entry] : header.items()) {
        if (name == "__metadata__") {
            if (!entry.is_object())
                throw FormatError(
                    fmt::format("'{}' has a corrupted header: \"__metadata__\" is not an object.", label));
            if (metadata)
                for (const auto& [key, value] : entry.items())
                    (*metadata)[key] = value.is_string() ? value.get<std::string>() : value.dump();
            continue;
        }
        if (!entry.is_object() || !entry.contains("dtype") || !entry["dtype"].is_string())
            throw FormatError(fmt::format("'{}' has a corrupted header: tensor '{}' has no \"dtype\".", label, name));
        RawTensor t;
        const auto dtype = entry["dtype"].get<std::string>();
        if (!parseDtype(dtype, t.dtype))
            throw UnsupportedError(fmt::format("'{}' stores tensor '{}' as {}, which attnscope does not read (F32, F16 "
                                               "and BF16 are supported).",
                                               label, name, dtype));
        t.shape = parseShape(entry.value("shape", nlohmann::json()), label, name);
        const auto& offsets = entry.value("data_offsets", nlohmann::json());
        if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
            !offsets[1].is_number_unsigned())
            throw FormatError(fmt::format("'{}' has a corrupted header: tensor '{}' has data_offsets {}, not two "
                                          "non-negative integers.",
                                          label, name, offsets.dump()));
        const auto begin = offsets[0].get<uint64_t>();
        const auto end = offsets[1].get<uint64_t>();
        if (begin > end)
            throw FormatError(fmt::format("'{}' has a corrupted header: tensor '{}' has data_offsets [{}, {}] that end "
                                          "before they begin.",
                                          label, name, begin, end));
        const size_t expected = tensorBytes(t.dtype, t.numel());
        if (end - begin != expected)
            throw FormatError(fmt::format("'{}' has a corrupted header: tensor '{}' of shape {} and dtype {} needs {} "
                                          "bytes but its data_offsets span {}.",
                                          label, name, fmt::format("[{}]", fmt::join(t.shape, ", ")), dtype, expected,
                                          end - begin));
        if (end > dataSize)
            throw FormatError(
                fmt::format("'{}' is truncated: tensor '{}' ends at byte {} but the file has {} bytes.", label, name,
                            end > std::numeric_limits<uint64_t>::max() - dataStart ? end : dataStart + end, size));
        t.data = mapped->data() + dataStart + begin;
        t.nbytes = expected;
        t.owner = mapped;
        t.file = label;
        tensors.emplace(name, std::move(t));
    }
    return tensors;
}

TensorSet readSafetensorsIndex(const std::filesystem::path& indexFile) {
    const std::string label = indexFile.string();
    std::ifstream in(indexFile, std::ios::binary);
    if (!in) throw FileError(fmt::format("Cannot open '{}'.", label));
    nlohmann::json index;
    try {
        index = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
        throw FormatError(fmt::format("'{}' is not valid JSON ({}).", label, e.what()));
    }
    if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
        throw FormatError(fmt::format("'{}' has no \"weight_map\" object.", label));

    const auto folder = indexFile.parent_path();
    std::map<std::string, TensorSet> shards; // each shard read (and mapped) once
    TensorSet out;
    for (const auto& [name, shardJson] : index["weight_map"].items()) {
        if (!shardJson.is_string())
            throw FormatError(
                fmt::format("'{}' maps tensor '{}' to {}, not a file name.", label, name, shardJson.dump()));
        const auto shardName = shardJson.get<std::string>();
        auto it = shards.find(shardName);
        if (it == shards.end()) {
            const auto shardPath = folder / shardName;
            if (!std::filesystem::exists(shardPath))
                throw FileError(
                    fmt::format("'{}' names the shard '{}', which does not exist.", label, shardPath.string()));
            it = shards.emplace(shardName, readSafetensors(shardPath)).first;
        }
        auto t = it->second.find(name);
        if (t == it->second.end())
            throw FormatError(fmt::format("'{}' has no tensor '{}', although '{}' says it is there.",
                                          (folder / shardName).string(), name, label));
        out.emplace(name, t->second);
    }
    return out;
}

void writeSafetensors(const std::filesystem::path& file, const std::vector<TensorToWrite>& tensors,
                      const std::map<std::string, std::string>& metadata) {
    const std::string label = file.string();
    std::map<std::string, const TensorToWrite*> byName; // the data section follows name order
    for (const auto& t : tensors) {
        if (t.dtype == DType::Q8_0)
            throw UnsupportedError(
                fmt::format("Cannot write tensor '{}' to '{}': safetensors has no Q8_0 dtype.", t.name, label));
        int64_t numel = 1;
        for (int64_t d : t.shape) {
            if (d < 0)
                throw ArgumentError(
                    fmt::format("Cannot write tensor '{}' to '{}': it has a negative dimension.", t.name, label));
            numel *= d;
        }
        if (numel > 0 && t.data == nullptr)
            throw ArgumentError(fmt::format("Cannot write tensor '{}' to '{}': it has no data.", t.name, label));
        if (t.name.empty() || t.name == "__metadata__" || !byName.emplace(t.name, &t).second)
            throw ArgumentError(
                fmt::format("Cannot write '{}': the tensor name '{}' is empty, reserved or repeated.", label, t.name));
    }

    nlohmann::json header = nlohmann::json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    uint64_t offset = 0;
    for (const auto& [name, t] : byName) {
        int64_t numel = 1;
        for (int64_t d : t->shape)
            numel *= d;
        const uint64_t bytes = tensorBytes(t->dtype, numel);
        header[name] = {
            {"dtype", dtypeName(t->dtype)}, {"shape", t->shape}, {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
    }
    std::string headerText = header.dump();
    headerText.append((8 - headerText.size() % 8) % 8, ' '); // keeps the data section 8-byte aligned
    const uint64_t headerLen = headerText.size();

    auto temp = file;
    temp += ".tmp-" + std::to_string(::getpid());
    try {
        std::ofstream out(temp, std::ios::binary | std::ios::trunc);
        if (!out) throw FileError(fmt::format("Cannot create '{}' to write '{}'.", temp.string(), label));
        out.write(reinterpret_cast<const char*>(&headerLen), 8);
        out.write(headerText.data(), static_cast<std::streamsize>(headerText.size()));
        for (const auto& [name, t] : byName) {
            int64_t numel = 1;
            for (int64_t d : t->shape)
                numel *= d;
            out.write(static_cast<const char*>(t->data), static_cast<std::streamsize>(tensorBytes(t->dtype, numel)));
        }
        out.close();
        if (!out) throw FileError(fmt::format("Cannot write '{}': writing failed (disk full?).", label));
        std::error_code ec;
        std::filesystem::rename(temp, file, ec);
        if (ec)
            throw FileError(
                fmt::format("Cannot write '{}': renaming the finished file failed ({}).", label, ec.message()));
    } catch (...) {
        std::error_code ignored;
        std::filesystem::remove(temp, ignored);
        throw;
    }
}

} // namespace attnscope::core

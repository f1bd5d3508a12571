#include "export_table.hpp"

#include "errors.hpp"
#include "npy_format.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>

namespace attnscope::importers {

ExportFormat parseExportFormat(const std::string& s) {
    if (s == "csv") return ExportFormat::Csv;
    if (s == "json") return ExportFormat::Json;
    if (s == "npy") return ExportFormat::Npy;
    throw core::ArgumentError("Unknown export format '" + s + "' (choose csv, json or npy).");
}

size_t ExportTable::rows() const {
    if (columns.empty()) return 0;
    return columns.front().text() ? columns.front().strings.size() : columns.front().numbers.size();
}

namespace {

std::string csvField(const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s)
        out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

std::string number(double v, bool integer) {
    if (std::isnan(v)) return "nan";
    if (integer) return fmt::format("{}", int64_t(v));
    return fmt::format("{}", v); // shortest text that reads back to the same double
}

nlohmann::json jsonNumber(double v, bool integer) {
    if (!std::isfinite(v)) return nullptr;
    if (integer) return int64_t(v);
    return v;
}

} // namespace

std::string tableText(const ExportTable& t, ExportFormat format) {
    const size_t rows = t.rows();
    if (format == ExportFormat::Npy) {
        std::vector<double> values;
        int64_t numeric = 0;
        for (const ExportColumn& c : t.columns)
            numeric += c.text() ? 0 : 1;
        values.reserve(rows * size_t(numeric));
        for (size_t r = 0; r < rows; ++r)
            for (const ExportColumn& c : t.columns)
                if (!c.text()) values.push_back(c.numbers[r]);
        return npyBytes({int64_t(rows), numeric}, values, NpyType::Float64);
    }
    if (format == ExportFormat::Json) {
        nlohmann::json j;
        j["columns"] = nlohmann::json::array();
        for (const ExportColumn& c : t.columns)
            j["columns"].push_back(c.name);
        j["rows"] = nlohmann::json::array();
        for (size_t r = 0; r < rows; ++r) {
            nlohmann::json row = nlohmann::json::array();
            for (const ExportColumn& c : t.columns)
                row.push_back(c.text() ? nlohmann::json(c.strings[r]) : jsonNumber(c.numbers[r], c.integer));
            j["rows"].push_back(std::move(row));
        }
        // Pieces are arbitrary bytes (byte-fallback tokens): replace invalid UTF-8 rather than fail.
        return j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    }
    std::string out;
    for (size_t i = 0; i < t.columns.size(); ++i)
        out += (i ? "," : "") + csvField(t.columns[i].name);
    out += "\n";
    for (size_t r = 0; r < rows; ++r) {
        for (size_t i = 0; i < t.columns.size(); ++i) {
            const ExportColumn& c = t.columns[i];
            out += (i ? "," : "") + (c.text() ? csvField(c.strings[r]) : number(c.numbers[r], c.integer));
        }
        out += "\n";
    }
    return out;
}

std::string matrixText(const ExportMatrix& m, ExportFormat format) {
    if (format == ExportFormat::Npy)
        return npyBytes({m.rows, m.cols}, std::vector<double>(m.values.begin(), m.values.end()), NpyType::Float32);
    if (format == ExportFormat::Json) {
        nlohmann::json j = {{"layer", m.layer}, {"head", m.head},   {"level", m.level}, {"reduce", m.reduce},
                            {"row0", m.row0},   {"col0", m.col0},   {"rows", m.rows},   {"cols", m.cols}};
        nlohmann::json values = nlohmann::json::array();
        for (int64_t r = 0; r < m.rows; ++r)
            values.push_back(std::vector<float>(m.values.begin() + r * m.cols, m.values.begin() + (r + 1) * m.cols));
        j["values"] = std::move(values);
        return j.dump() + "\n";
    }
    std::string out = "query";
    for (int64_t c = 0; c < m.cols; ++c)
        out += fmt::format(",{}", m.col0 + c);
    out += "\n";
    for (int64_t r = 0; r < m.rows; ++r) {
        out += std::to_string(m.row0 + r);
        for (int64_t c = 0; c < m.cols; ++c)
            out += fmt::format(",{}", m.values[size_t(r * m.cols + c)]);
        out += "\n";
    }
    return out;
}

} // namespace attnscope::importers

#pragma once
// Tables and matrices leaving attnscope (`attnscope-cli export`), written as CSV, JSON or NumPy .npy.
#include <cstdint>
#include <string>
#include <vector>

namespace attnscope::importers {

enum class ExportFormat { Csv, Json, Npy };
// "csv" | "json" | "npy"; throws core::ArgumentError naming the valid ones.
ExportFormat parseExportFormat(const std::string& s);

struct ExportColumn {
    std::string name;
    std::vector<double> numbers;      // numeric columns (NaN allowed)
    std::vector<std::string> strings; // text columns; exactly one of the two is filled
    bool integer = false;             // printed without a fraction

    bool text() const { return numbers.empty() && !strings.empty(); }
};

struct ExportTable {
    std::vector<ExportColumn> columns;
    size_t rows() const;
};

// CSV: a header of column names, then one line per row (RFC 4180 quoting; NaN as "nan").
// JSON: {"columns": [...], "rows": [[...], ...]} (NaN as null).
// npy: float64 [rows, numeric columns] in column order, text columns left out.
std::string tableText(const ExportTable& table, ExportFormat format);

// One head's attention (a map at level 0 or a pyramid tile), values[rows][cols] from cell (row0, col0).
struct ExportMatrix {
    int64_t layer = 0, head = 0, level = 0, row0 = 0, col0 = 0, rows = 0, cols = 0;
    std::string reduce = "mean";
    std::vector<float> values;
};

// CSV: header "query,<col0>,<col0+1>,..." then "<row>,v,v,..."; JSON: the fields and "values" as nested rows;
// npy: float32 [rows, cols].
std::string matrixText(const ExportMatrix& m, ExportFormat format);

} // namespace attnscope::importers

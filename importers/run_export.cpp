#include "run_export.hpp"

#include "errors.hpp"
#include "store/run_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <variant>

namespace attnscope::importers {

namespace {

ExportColumn numbers(std::string name, std::vector<double> values, bool integer) {
    ExportColumn c;
    c.name = std::move(name), c.numbers = std::move(values), c.integer = integer;
    return c;
}

ExportTable headKeys(core::RunReader& run) {
    const int64_t L = run.model().nLayers, H = run.model().nHeads, group = H / run.model().nKvHeads;
    std::vector<double> layer, head, kv;
    for (int64_t l = 0; l < L; ++l)
        for (int64_t h = 0; h < H; ++h)
            layer.push_back(double(l)), head.push_back(double(h)), kv.push_back(double(h / group));
    ExportTable t;
    t.columns.push_back(numbers("layer", layer, true));
    t.columns.push_back(numbers("head", head, true));
    t.columns.push_back(numbers("kv_head", kv, true));
    return t;
}

// Appends every analysis dataset of per-head or per-KV-head shape whose type is int32 (`flags`) or not.
void addAnalysisColumns(core::RunReader& run, ExportTable& t, bool flags) {
    const int64_t L = run.model().nLayers, H = run.model().nHeads, Hkv = run.model().nKvHeads, group = H / Hkv;
    for (const std::string& name : run.summary().analyses) {
        const core::AnalysisResult result = run.analysis(name);
        for (const core::AnalysisDataset& d : result.datasets) {
            if (std::holds_alternative<std::vector<std::string>>(d.values)) continue;
            const bool perHead = d.shape == std::vector<int64_t>{L, H};
            if (!perHead && d.shape != std::vector<int64_t>{L, Hkv}) continue;
            const std::vector<double> v = d.toDoubles();
            // A flag is an int32 dataset of 0s and 1s (is_sink, retained, full_attention); counts and offsets are
            // metrics.
            const bool isFlag = std::holds_alternative<std::vector<int32_t>>(d.values) &&
                                std::all_of(v.begin(), v.end(), [](double x) { return x == 0.0 || x == 1.0; });
            if (isFlag != flags) continue;
            std::vector<double> column;
            for (int64_t l = 0; l < L; ++l)
                for (int64_t h = 0; h < H; ++h)
                    column.push_back(perHead ? v[size_t(l * H + h)] : v[size_t(l * Hkv + h / group)]);
            t.columns.push_back(numbers(name + "." + d.name, std::move(column),
                                       std::holds_alternative<std::vector<int32_t>>(d.values)));
        }
    }
}

} // namespace

ExportTable metricsTable(core::RunReader& run) {
    ExportTable t = headKeys(run);
    const int64_t L = run.model().nLayers, H = run.model().nHeads, T = run.layout().tokens;
    for (const char* stat : {"entropy", "first_mass"}) {
        std::vector<double> column;
        for (int64_t l = 0; l < L; ++l) {
            const std::vector<float> values = run.layerStat(stat, l); // [H][T]
            for (int64_t h = 0; h < H; ++h) {
                double sum = 0.0;
                for (int64_t q = 0; q < T; ++q)
                    sum += values[size_t(h * T + q)];
                column.push_back(sum / double(T));
            }
        }
        t.columns.push_back(numbers(std::string("stats.") + stat + "_mean", std::move(column), false));
    }
    addAnalysisColumns(run, t, false);
    return t;
}

ExportTable classificationTable(core::RunReader& run) {
    ExportTable t = headKeys(run);
    addAnalysisColumns(run, t, true);
    if (t.columns.size() == 3)
        throw core::ArgumentError(fmt::format("Run file '{}' holds no head classification (no int32 [layer, head] or "
                                              "[layer, kv_head] result under /analysis; run analyze or import-scores "
                                              "first).",
                                              run.path().string()));
    return t;
}

ExportTable tokensTable(core::RunReader& run) {
    const core::RunTokens& tokens = run.tokens();
    std::vector<double> index, ids, begin, end, generated;
    for (size_t i = 0; i < tokens.ids.size(); ++i) {
        index.push_back(double(i)), ids.push_back(tokens.ids[i]);
        begin.push_back(double(tokens.spans[i][0])), end.push_back(double(tokens.spans[i][1]));
        generated.push_back(tokens.generated[i]);
    }
    ExportTable t;
    t.columns.push_back(numbers("index", index, true));
    t.columns.push_back(numbers("id", ids, true));
    ExportColumn pieces;
    pieces.name = "piece", pieces.strings = tokens.pieces;
    t.columns.push_back(std::move(pieces));
    t.columns.push_back(numbers("begin", begin, true));
    t.columns.push_back(numbers("end", end, true));
    t.columns.push_back(numbers("generated", generated, true));
    return t;
}

CellRange parseCellRange(const std::string& text) {
    const auto bad = [&] {
        return core::ArgumentError("The range '" + text +
                                   "' is not of the form q0:q1,k0:k1 (half-open cell ranges, either end may be empty).");
    };
    const size_t comma = text.find(',');
    if (comma == std::string::npos) throw bad();
    const auto side = [&](const std::string& s, int64_t& lo, int64_t& hi) {
        if (s.empty()) return;
        const size_t colon = s.find(':');
        if (colon == std::string::npos) throw bad();
        try {
            if (colon > 0) lo = std::stoll(s.substr(0, colon));
            if (colon + 1 < s.size()) hi = std::stoll(s.substr(colon + 1));
        } catch (const std::exception&) {
            throw bad();
        }
        if (lo < 0) throw bad();
    };
    CellRange r;
    side(text.substr(0, comma), r.q0, r.q1);
    side(text.substr(comma + 1), r.k0, r.k1);
    return r;
}

ExportMatrix exportMatrix(core::RunReader& run, int64_t layer, int64_t head, int level, const CellRange& range,
                          bool max) {
    const std::string file = run.path().string();
    if (layer < 0 || layer >= run.model().nLayers || head < 0 || head >= run.model().nHeads)
        throw core::ArgumentError(fmt::format("Run file '{}' has no head {} in layer {} ({} layers of {} heads).", file,
                                              head, layer, run.model().nLayers, run.model().nHeads));
    if (level < 0 || level > 62)
        throw core::ArgumentError(fmt::format("Run file '{}' has no pyramid level {}.", file, level));
    const int64_t n = core::pyramidSize(run.layout().tokens, level);
    ExportMatrix m;
    m.layer = layer, m.head = head, m.level = level, m.reduce = max ? "max" : "mean";
    m.row0 = range.q0, m.col0 = range.k0;
    const int64_t q1 = range.q1 < 0 ? n : range.q1, k1 = range.k1 < 0 ? n : range.k1;
    if (m.row0 >= q1 || m.col0 >= k1 || q1 > n || k1 > n)
        throw core::ArgumentError(fmt::format("The range {}:{},{}:{} is empty or lies outside the {} x {} cells of "
                                              "level {} in run file '{}'.",
                                              m.row0, q1, m.col0, k1, n, n, level, file));
    m.rows = q1 - m.row0, m.cols = k1 - m.col0;
    m.values.assign(size_t(m.rows * m.cols), 0.0f);
    // The reader serves square tiles; read the range in blocks so that memory stays a block, not a map.
    constexpr int64_t kBlock = 512;
    for (int64_t r = 0; r < m.rows; r += kBlock)
        for (int64_t c = 0; c < m.cols; c += kBlock) {
            const core::Tile tile = run.tile(layer, head, level, m.row0 + r, m.col0 + c, kBlock,
                                             max ? core::TileReduce::Max : core::TileReduce::Mean);
            const int64_t rows = std::min(tile.rows, m.rows - r), cols = std::min(tile.cols, m.cols - c);
            for (int64_t i = 0; i < rows; ++i)
                for (int64_t j = 0; j < cols; ++j)
                    m.values[size_t((r + i) * m.cols + c + j)] = tile.values[size_t(i * tile.cols + j)];
        }
    return m;
}

} // namespace attnscope::importers

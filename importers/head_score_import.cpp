#include "head_score_import.hpp"

#include "analysis/head_classification.hpp"
#include "errors.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

namespace attnscope::importers {

using core::FormatError;

HeadScoreKind parseHeadScoreKind(const std::string& s) {
    if (s == "retrieval-json") return HeadScoreKind::RetrievalJson;
    if (s == "duo-tsv") return HeadScoreKind::DuoTsv;
    throw core::ArgumentError("Unknown score file kind '" + s +
                              "' (choose retrieval-json, duo-tsv or thought-anchors).");
}

std::string defaultHeadScoreName(HeadScoreKind kind) {
    return kind == HeadScoreKind::RetrievalJson ? "retrieval_head_published" : "duo_attention_published";
}

namespace {

std::string readAll(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::error_code error;
    if (!in || std::filesystem::is_directory(file, error))
        throw core::FileError(
            fmt::format("Cannot open the score file '{}': it does not exist or is not readable.", file.string()));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

core::AnalysisResult retrievalJson(const std::filesystem::path& file, const RunHeadShape& shape) {
    const std::string name = file.string();
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(readAll(file));
    } catch (const nlohmann::json::exception& e) {
        throw FormatError(fmt::format("The score file '{}' is not valid JSON ({}).", name, e.what()));
    }
    if (!j.is_object() || j.empty())
        throw FormatError(fmt::format("The score file '{}' is not a Retrieval_Head JSON object of \"layer-head\" keys.",
                                      name));
    const int64_t L = shape.layers, H = shape.heads;
    std::vector<double> score(size_t(L * H), std::numeric_limits<double>::quiet_NaN());
    std::vector<int32_t> tests(size_t(L * H), 0), retrieval(size_t(L * H), 0);
    for (const auto& [key, value] : j.items()) {
        long long layer = -1, head = -1;
        char dash = 0;
        std::istringstream k(key);
        if (!(k >> layer >> dash >> head) || dash != '-' || !k.eof())
            throw FormatError(fmt::format("The score file '{}' has a key '{}' that is not \"layer-head\".", name, key));
        if (layer < 0 || layer >= L || head < 0 || head >= H)
            throw FormatError(fmt::format("The score file '{}' scores layer {} head {}, outside the run's {} layers of "
                                          "{} heads.",
                                          name, layer, head, L, H));
        std::vector<double> values;
        for (const auto& v : value.is_array() ? value : nlohmann::json::array({value})) {
            if (!v.is_number())
                throw FormatError(fmt::format("The score file '{}' has a non-number score under '{}'.", name, key));
            values.push_back(v.get<double>());
        }
        const size_t at = size_t(layer * H + head);
        tests[at] = int32_t(values.size());
        double sum = 0.0;
        for (double v : values)
            sum += v;
        // Retrieval_Head ranks heads by the mean of their per-test scores (an empty list scores 0 there too).
        score[at] = values.empty() ? 0.0 : sum / double(values.size());
        retrieval[at] = score[at] > core::kRetrievalScoreThreshold ? 1 : 0;
    }
    core::AnalysisResult r;
    r.source = "methods.md §3.1; Wu et al., Retrieval Head Mechanistically Explains Long-Context Factuality (2024), "
               "published scores (nightdessert/Retrieval_Head, head_score/*.json)";
    r.set("threshold", core::kRetrievalScoreThreshold);
    r.add("score", {L, H}, score, "layer,head");
    r.add("tests", {L, H}, tests, "layer,head");
    r.add("retrieval", {L, H}, retrieval, "layer,head");
    return r;
}

core::AnalysisResult duoTsv(const std::filesystem::path& file, const RunHeadShape& shape) {
    const std::string name = file.string();
    std::vector<std::vector<double>> rows;
    std::istringstream text(readAll(file));
    size_t lineNo = 0;
    for (std::string line; std::getline(text, line);) {
        ++lineNo;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        std::vector<double> row;
        std::istringstream fields(line);
        for (std::string field; std::getline(fields, field, '\t');) {
            char* end = nullptr;
            const double v = std::strtod(field.c_str(), &end);
            if (field.empty() || end == field.c_str() || std::string(end).find_first_not_of(" \r") != std::string::npos ||
                !std::isfinite(v))
                throw FormatError(fmt::format("The score file '{}' has '{}' on line {}, not a number.", name, field,
                                              lineNo));
            row.push_back(v);
        }
        rows.push_back(std::move(row));
    }
    const int64_t L = shape.layers, Hkv = shape.kvHeads;
    if (int64_t(rows.size()) != L)
        throw FormatError(fmt::format("The score file '{}' has {} lines (layers) but the run has {} layers.", name,
                                      rows.size(), L));
    for (size_t l = 0; l < rows.size(); ++l)
        if (int64_t(rows[l].size()) != Hkv)
            throw FormatError(fmt::format("The score file '{}' has {} columns (KV heads) on line {} but the run has {} "
                                          "KV heads (import attention with --kv-heads to match a GQA model).",
                                          name, rows[l].size(), l + 1, Hkv));
    double threshold = 0.5;
    core::AnalysisResult r;
    const auto config = file.parent_path() / "config.json";
    std::error_code error;
    if (std::filesystem::is_regular_file(config, error)) {
        // The training settings DuoAttention saves beside its gates: the deploy threshold and the streaming window.
        try {
            const nlohmann::json c = nlohmann::json::parse(readAll(config));
            if (c.contains("threshold") && c["threshold"].is_number()) threshold = c["threshold"].get<double>();
            for (const char* key : {"sink_size", "recent_size"})
                if (c.contains(key) && c[key].is_number_integer()) r.set(key, c[key].get<int64_t>());
        } catch (const nlohmann::json::exception& e) {
            throw FormatError(fmt::format("The DuoAttention config '{}' is not valid JSON ({}).", config.string(),
                                          e.what()));
        }
    }
    std::vector<double> gate;
    std::vector<int32_t> full;
    for (const auto& row : rows)
        for (double v : row) {
            gate.push_back(v);
            full.push_back(std::clamp(v, 0.0, 1.0) > threshold ? 1 : 0);
        }
    r.source = "methods.md §3.4; Xiao et al., DuoAttention: Efficient Long-Context LLM Inference with Retrieval and "
               "Streaming Heads (2024), published gates (mit-han-lab/duo-attention, attn_patterns/)";
    r.set("threshold", threshold);
    r.add("gate", {L, Hkv}, gate, "layer,kv_head");
    r.add("full_attention", {L, Hkv}, full, "layer,kv_head");
    return r;
}

} // namespace

core::AnalysisResult readHeadScores(const std::filesystem::path& file, HeadScoreKind kind, const RunHeadShape& shape,
                                    const std::string& name) {
    core::AnalysisResult r = kind == HeadScoreKind::RetrievalJson ? retrievalJson(file, shape) : duoTsv(file, shape);
    r.name = name;
    r.set("file", file.string());
    return r;
}

} // namespace attnscope::importers

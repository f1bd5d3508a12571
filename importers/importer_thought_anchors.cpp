#include "importer_thought_anchors.hpp"

#include "errors.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <limits>
#include <sstream>

namespace attnscope::importers {

using core::FormatError;
using nlohmann::json;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

json readJson(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::error_code error;
    if (!in || std::filesystem::is_directory(file, error))
        throw core::FileError(fmt::format("Cannot open the Thought Anchors file '{}': it does not exist or is not "
                                          "readable.",
                                          file.string()));
    std::stringstream s;
    s << in.rdbuf();
    try {
        return json::parse(s.str());
    } catch (const json::exception& e) {
        throw FormatError(
            fmt::format("The Thought Anchors file '{}' is not valid JSON ({}).", file.string(), e.what()));
    }
}

std::string joinList(const json& v) {
    if (v.is_null()) return {};
    if (!v.is_array()) return v.is_string() ? v.get<std::string>() : v.dump();
    std::string out;
    for (const json& e : v)
        out += (out.empty() ? "" : ",") + (e.is_string() ? e.get<std::string>() : e.dump());
    return out;
}

} // namespace

core::AnalysisResult readThoughtAnchors(const std::filesystem::path& input, const std::string& name) {
    std::error_code ec;
    const bool isDir = std::filesystem::is_directory(input, ec);
    const std::filesystem::path folder = isDir ? input : input.parent_path();
    const std::filesystem::path chunksFile = isDir ? folder / "chunks_labeled.json" : input;
    const std::string cf = chunksFile.string();

    const json chunks = readJson(chunksFile);
    if (!chunks.is_array() || chunks.empty())
        throw FormatError(fmt::format("The Thought Anchors file '{}' is not a non-empty list of chunk objects.", cf));
    const int64_t N = int64_t(chunks.size());
    const size_t n = size_t(N);
    std::vector<std::string> texts(n), summaries(n), tags(n), depends(n);
    std::vector<std::string> fieldOrder;
    std::map<std::string, std::vector<double>> fields;
    for (int64_t i = 0; i < N; ++i) {
        const json& c = chunks[size_t(i)];
        if (!c.is_object() || !c.contains("chunk") || !c["chunk"].is_string())
            throw FormatError(
                fmt::format("The Thought Anchors file '{}' has an entry {} without a string \"chunk\".", cf, i));
        if (c.contains("chunk_idx") && (!c["chunk_idx"].is_number_integer() || c["chunk_idx"].get<int64_t>() != i))
            throw FormatError(fmt::format("The Thought Anchors file '{}' has chunk_idx {} at position {} (expected the "
                                          "chunks in order from 0).",
                                          cf, c["chunk_idx"].dump(), i));
        texts[size_t(i)] = c["chunk"].get<std::string>();
        if (c.contains("summary") && c["summary"].is_string()) summaries[size_t(i)] = c["summary"].get<std::string>();
        if (c.contains("function_tags")) tags[size_t(i)] = joinList(c["function_tags"]);
        if (c.contains("depends_on")) depends[size_t(i)] = joinList(c["depends_on"]);
        for (const auto& [key, value] : c.items()) {
            if (key == "chunk_idx" || !value.is_number()) continue;
            auto [it, inserted] = fields.try_emplace(key, std::vector<double>(size_t(N), kNaN));
            if (inserted) fieldOrder.push_back(key);
            it->second[size_t(i)] = value.get<double>();
        }
    }

    core::AnalysisResult r;
    r.name = name;
    r.source = "Bogdan, Macar et al. 2025, Thought Anchors (published results of thought-anchors.com); methods.md §4";
    r.version = 1;
    std::vector<std::string> files{"chunks_labeled.json"};
    r.add("sentence_text", {N}, texts, "sentence");
    r.add("sentence_summary", {N}, summaries, "sentence");
    r.add("function_tags", {N}, tags, "sentence");
    r.add("depends_on", {N}, depends, "sentence");
    std::string fieldList;
    for (const std::string& key : fieldOrder) {
        if (key == "sentence_text" || key == "sentence_summary" || key == "function_tags" || key == "depends_on" ||
            key == "step_importance" || key == "sentence_bytes")
            continue; // never shadow our own dataset names
        r.add(key, {N}, fields[key], "sentence");
        fieldList += (fieldList.empty() ? "" : ",") + key;
    }

    const std::filesystem::path stepFile = folder / "step_importance.json";
    if (std::filesystem::exists(stepFile, ec)) {
        const std::string sf = stepFile.string();
        const json steps = readJson(stepFile);
        if (!steps.is_array())
            throw FormatError(fmt::format("The Thought Anchors file '{}' is not a list of source chunks.", sf));
        std::vector<double> m(size_t(N * N), kNaN);
        for (const json& s : steps) {
            if (!s.is_object() || !s.contains("source_chunk_idx") || !s["source_chunk_idx"].is_number_integer() ||
                !s.contains("target_impacts") || !s["target_impacts"].is_array())
                throw FormatError(fmt::format("The Thought Anchors file '{}' has an entry without an integer "
                                              "source_chunk_idx and a target_impacts list.",
                                              sf));
            const int64_t src = s["source_chunk_idx"].get<int64_t>();
            if (src < 0 || src >= N)
                throw FormatError(
                    fmt::format("The Thought Anchors file '{}' has source chunk {}, outside the {} chunks "
                                "of '{}'.",
                                sf, src, N, cf));
            for (const json& t : s["target_impacts"]) {
                if (!t.is_object() || !t.contains("target_chunk_idx") || !t["target_chunk_idx"].is_number_integer() ||
                    !t.contains("importance_score") ||
                    !(t["importance_score"].is_number() || t["importance_score"].is_null()))
                    throw FormatError(
                        fmt::format("The Thought Anchors file '{}' has a target impact of source chunk {} "
                                    "without an integer target_chunk_idx and a numeric importance_score.",
                                    sf, src));
                const int64_t dst = t["target_chunk_idx"].get<int64_t>();
                if (dst < 0 || dst >= N)
                    throw FormatError(fmt::format("The Thought Anchors file '{}' has target chunk {}, outside the {} "
                                                  "chunks of '{}'.",
                                                  sf, dst, N, cf));
                if (t["importance_score"].is_number()) m[size_t(src * N + dst)] = t["importance_score"].get<double>();
            }
        }
        r.add("step_importance", {N, N}, m, "source_sentence,target_sentence");
        files.push_back("step_importance.json");
    }

    const std::filesystem::path baseFile = folder / "base_solution.json";
    if (std::filesystem::exists(baseFile, ec)) {
        const json base = readJson(baseFile);
        if (!base.is_object() || !base.contains("solution") || !base["solution"].is_string())
            throw FormatError(
                fmt::format("The Thought Anchors file '{}' has no string \"solution\".", baseFile.string()));
        const std::string solution = base["solution"].get<std::string>();
        std::vector<int32_t> bytes(size_t(2 * N), -1);
        size_t at = 0;
        for (int64_t i = 0; i < N; ++i) {
            const size_t p = solution.find(texts[size_t(i)], at);
            if (p == std::string::npos) continue;
            bytes[size_t(2 * i)] = int32_t(p);
            bytes[size_t(2 * i + 1)] = int32_t(p + texts[size_t(i)].size());
            at = p + texts[size_t(i)].size();
        }
        r.add("sentence_bytes", {N, 2}, bytes, "sentence,begin_end");
        files.push_back("base_solution.json");
    }

    for (const char* f : {"problem.json", "summary.json"}) {
        const std::filesystem::path p = folder / f;
        if (!std::filesystem::exists(p, ec)) continue;
        const json j = readJson(p);
        files.push_back(f);
        if (j.is_object() && j.contains("problem_idx") && !r.parameter("problem_idx")) {
            const json& v = j["problem_idx"];
            if (v.is_number_integer())
                r.set("problem_idx", int64_t(v.get<int64_t>()));
            else if (v.is_string())
                r.set("problem_idx", v.get<std::string>());
        }
    }
    std::string fileList;
    for (const std::string& f : files)
        fileList += (fileList.empty() ? "" : ",") + f;
    r.set("folder", std::filesystem::absolute(folder).lexically_normal().string());
    r.set("files", fileList);
    r.set("chunks", N);
    r.set("numeric_fields", fieldList);
    return r;
}

std::string publishedTraceText(const std::filesystem::path& folderOrChunks, const core::AnalysisResult& result) {
    std::error_code ec;
    const std::filesystem::path folder =
        std::filesystem::is_directory(folderOrChunks, ec) ? folderOrChunks : folderOrChunks.parent_path();
    const std::filesystem::path baseFile = folder / "base_solution.json";
    if (std::filesystem::exists(baseFile, ec)) return readJson(baseFile)["solution"].get<std::string>();
    const core::AnalysisDataset* d = result.dataset("sentence_text");
    if (!d) throw core::ArgumentError("Published anchors from '" + folder.string() + "' hold no sentence_text.");
    std::string text;
    for (const auto& chunk : std::get<std::vector<std::string>>(d->values))
        text += (text.empty() ? "" : " ") + chunk;
    return text;
}

} // namespace attnscope::importers

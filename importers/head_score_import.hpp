#pragma once
// Published head scores of the reference projects, read into an /analysis result of an existing run so that they can
// be overlaid on its layer x head grid: Retrieval_Head's JSON ({"layer-head": [score per test], ...}) and
// DuoAttention's full_attention_heads.tsv (one line per layer, one tab-separated gate per KV head).
#include "store/run_analysis.hpp"

#include <cstdint>
#include <filesystem>
#include <string>

namespace attnscope::importers {

enum class HeadScoreKind { RetrievalJson, DuoTsv };
// "retrieval-json" | "duo-tsv"; throws core::ArgumentError naming the valid kinds.
HeadScoreKind parseHeadScoreKind(const std::string& s);
// The result's default name: "retrieval_head_published" or "duo_attention_published".
std::string defaultHeadScoreName(HeadScoreKind kind);

struct RunHeadShape {
    int64_t layers = 0, heads = 0, kvHeads = 0;
};

// Retrieval JSON -> score float64 [L,H] (mean over the list; NaN for heads the file does not list), tests int32
// [L,H] (list lengths) and retrieval int32 [L,H] (score > 0.1, Wu et al.'s threshold).
// DuoAttention TSV -> gate float64 [L,Hkv] as published and full_attention int32 [L,Hkv] (gate clipped to [0, 1]
// > threshold; threshold, sink_size and recent_size come from a config.json beside the file when there is one, else
// 0.5). Throws core::FileError or core::FormatError naming the file: bad syntax, a layer or head outside `shape`,
// a TSV whose rows or columns are not the run's layers and KV heads.
core::AnalysisResult readHeadScores(const std::filesystem::path& file, HeadScoreKind kind, const RunHeadShape& shape,
                                    const std::string& name);

} // namespace attnscope::importers

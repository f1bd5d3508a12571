#pragma once
// The Thought Anchors authors' published per-sentence results (one problem folder of thought-anchors.com's
// src/app/data: chunks_labeled.json, step_importance.json, base_solution.json) read into an /analysis result, so that
// they can be shown beside our own /analysis/anchors of the same trace. Torch-free.
#include "store/run_analysis.hpp"
#include "store/run_types.hpp"

#include <filesystem>
#include <string>

namespace attnscope::importers {

inline constexpr const char* kThoughtAnchorsPublishedName = "anchors_published";

// Reads `folder` (or a chunks_labeled.json given directly, its siblings read from the same folder):
//   sentence_text [N] string            the published chunks, in chunk_idx order
//   sentence_summary, function_tags, depends_on [N] string   (tags and dependencies joined by ',')
//   <field> [N] float64                 every numeric per-chunk field of chunks_labeled.json (accuracy,
//                                       resampling_importance_accuracy, counterfactual_importance_kl, ...), NaN
//                                       where a chunk lacks it or has null
//   step_importance [N,N] float64       source x target from step_importance.json (NaN where not published:
//                                       the diagonal and earlier targets); absent when the file is absent
//   sentence_bytes [N,2] int32          byte ranges of the chunks in base_solution.json's `solution` ([-1,-1]
//                                       where a chunk is not found in order); absent without base_solution.json
// Parameters: folder, files (those read), chunks, numeric_fields, problem_idx when problem.json or summary.json has
// one. Throws core::FileError (no chunks_labeled.json) or core::FormatError naming the file (not JSON, not a list of
// chunk objects with a string "chunk", chunk_idx not 0..N-1, a matrix index outside the chunks).
core::AnalysisResult readThoughtAnchors(const std::filesystem::path& folder,
                                        const std::string& name = kThoughtAnchorsPublishedName);

// The trace the published chunks come from, for capturing it with a model: base_solution.json's "solution" beside
// the chunks (readThoughtAnchors checked it), else the chunks joined by single spaces.
std::string publishedTraceText(const std::filesystem::path& folderOrChunks, const core::AnalysisResult& result);

} // namespace attnscope::importers

#pragma once
// Where an experiment's results go: the run file of the text it ran on. Torch-free.
#include "intervene/attention_edit.hpp"
#include "store/run_analysis.hpp"

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

namespace attnscope::core {

class Progress;
class Transformer;

// Throws ArgumentError when `run` exists and holds other tokens than `ids` (nothing to check when it is missing).
void checkRunHolds(const std::filesystem::path& run, const std::vector<int32_t>& ids);

// Writes `results` into `run`. A missing run is captured first from `ids` (with `edits` attached, so that an edited
// run can be viewed); an existing one must hold exactly `ids`, else ArgumentError naming the file. Returns true when
// the run was captured here.
bool storeInRun(Transformer& model, const std::vector<int32_t>& ids, const std::filesystem::path& run,
                std::span<const AnalysisResult> results, const EditSet& edits = {}, Progress* progress = nullptr);

} // namespace attnscope::core

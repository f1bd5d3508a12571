#pragma once
// The "anchors" entry of the analysis catalog: Thought Anchors' white-box analysis (methods.md §4.1, §4.5) of a
// run whose text is a reasoning trace. Sentences are segmented from the run's text (between <think> and </think>
// when present) and mapped to tokens through the stored byte spans. Runs only when named (--only anchors).
#include "jobs/analysis_catalog.hpp"

namespace attnscope::core {

AnalysisEntry anchorAnalysisEntry();

} // namespace attnscope::core

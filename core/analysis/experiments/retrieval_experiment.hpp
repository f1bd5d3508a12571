#pragma once
// Wu et al.'s retrieval-head detection (methods.md §3.1) run on a model: for every needle, length and depth, build the
// prompt, prefill all but its last token, decode greedily with a KV cache while an attention hook takes every head's
// top-1 key, score the copies, and keep the tests whose answer passes the ROUGE-1 filter. Thread: one worker.
#include "analysis/needle_haystack.hpp"
#include "analysis/retrieval_score.hpp"
#include "intervene/attention_edit.hpp"

#include <span>
#include <string_view>

namespace attnscope::core {

class Progress;
class Transformer;

// params with its defaults resolved for model: lengths and buffer from the model's max positions, stop strings from
// its vocabulary. Throws ArgumentError for empty lengths or depths, a length outside [1, max positions], a depth
// outside [0, 100], a negative buffer or fewer than one new token; Error when the model has no tokenizer.
RetrievalParams resolveRetrievalParams(const Transformer& model, RetrievalParams params);

// Runs needles x lengths x depths tests (needle-major) on the haystack text and returns the tests and the mean
// retrieval score of the kept ones. decodeEdits (may be empty) apply during decoding only, the prefill running
// unedited, as Wu et al.'s masking (methods.md §3.2); the scores are then read from the edited attention. Throws as
// resolveRetrievalParams, ArgumentError for no needles, a haystack or real needle without tokens, a length too short
// for the needle or edits the model cannot take; Cancelled when progress is cancelled.
RetrievalResult runRetrievalExperiment(Transformer& model, std::string_view haystack,
                                       std::span<const NeedleCase> needles, const RetrievalParams& params,
                                       Progress* progress = nullptr, const EditSet& decodeEdits = {});

} // namespace attnscope::core

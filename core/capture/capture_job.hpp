#pragma once
// One capture: tokenize the prompt, optionally generate, then run one probed prefill over the whole sequence and
// write the run file (temporary name, renamed when complete). Worker thread; progress and cancel via Progress.
#include "analysis/probe_request.hpp"
#include "intervene/attention_edit.hpp"
#include "runtime/sampler.hpp"
#include "store/run_probe.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace attnscope::core {

class Progress;
class Transformer;

enum class FullMaps { Auto, Always, Never };
FullMaps parseFullMaps(const std::string& s); // "auto" | "always" | "never"

struct CaptureOptions {
    std::string prompt;
    std::vector<int32_t> promptIds;  // when not empty, used instead of tokenizing `prompt` (text is decoded)
    int64_t generate = 0;            // tokens to generate before capturing; their rows are captured too
    SamplingOptions sampling;
    FullMaps full = FullMaps::Auto;
    int64_t fullBudgetBytes = 2ll << 30; // auto keeps full maps while L*H*T*T*2 bytes stays under this
    // The finest stored pyramid level has at most this many cells per side: enough for an overview on any screen;
    // finer views are recomputed from Q/K and pooled. 1024 would cost 4x the writing (deflate dominates).
    int64_t pyramidMaxSide = 512;
    std::filesystem::path out;
    bool portableReductions = false; // ATen reductions on the CPU too (the CUDA path), to verify both agree
    RunProbe probe;                  // stored as /probe when present (promptIds then hold the probe's tokens)
    EditSet edits;                   // applied during generation and capture; stored as /analysis/edits when set
};

struct CaptureResult {
    std::filesystem::path file;
    int64_t tokens = 0;
    int64_t generated = 0;
    bool fullProbs = false;
    std::vector<int> pyramidLevels;
    RunProbe probe; // the probe's layout, for probe runs
};

// Throws Error for bad input, Cancelled when progress->cancel() was called; no file is left under `out` then.
CaptureResult captureRun(Transformer& model, const CaptureOptions& options, Progress* progress = nullptr);

// Captures a built-in probe (probe_request.hpp), one run per sequence at probeRunPath(base.out, b, n), each with its
// /probe layout; `base` gives the other options (its prompt, ids and generation are ignored). Throws ArgumentError
// for a probe the model cannot take (no tokenizer, too long for its context) and captureRun's errors; runs
// already written are kept.
std::vector<CaptureResult> captureProbe(Transformer& model, const ProbeRequest& request, const CaptureOptions& base,
                                        Progress* progress = nullptr);

} // namespace attnscope::core

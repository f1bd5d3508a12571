#pragma once
// A long run for benchmarks: T deterministic token ids (no real text needed at these lengths) captured without full
// maps. Returns the capture's seconds.
#include "bench_common.hpp"
#include "capture/capture_job.hpp"
#include "runtime/transformer.hpp"

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace attnscope::bench {

inline double captureLongRun(const std::string& model, int64_t T, const std::filesystem::path& out) {
    auto m = core::Transformer::load(model, {});
    std::vector<int32_t> ids(static_cast<size_t>(T));
    // Ordinary pieces only: byte-fallback ids (3..258 in SentencePiece vocabularies) can decode to NUL bytes.
    const int32_t first = m->config().vocabSize > 300 ? 259 : 4;
    for (int64_t i = 0; i < T; ++i)
        ids[size_t(i)] = first + static_cast<int32_t>((i * 131 + 7) % (m->config().vocabSize - first));
    core::CaptureOptions c;
    c.promptIds = ids;
    c.full = core::FullMaps::Never;
    c.out = out;
    const auto t0 = std::chrono::steady_clock::now();
    core::captureRun(*m, c);
    return since(t0);
}

} // namespace attnscope::bench

#pragma once
// What the benchmarks share: the default model (stories260K from ../shared) and a stopwatch.
#include <chrono>
#include <filesystem>

namespace attnscope::bench {

inline std::filesystem::path stories260K() {
    return std::filesystem::path(ATTNSCOPE_SHARED_DIR) / "models/stories260K/stories260K.gguf";
}

// Seconds since t0.
inline double since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

} // namespace attnscope::bench

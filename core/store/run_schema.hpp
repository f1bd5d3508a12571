#pragma once
// Names and storage choices of the run file shared by writer and reader; the contract is docs/run-format.md.
#include <array>
#include <cstdint>
#include <string>

namespace attnscope::core {

inline constexpr const char* kRunFormatName = "attnscope-run";

// float32 [L,H,T] statistics under /stats, in the order LayerCapture holds them.
inline constexpr std::array<const char*, 4> kRunFloatStats = {"received", "alpha", "entropy", "first_mass"};

// Side of a square attention chunk: one 256 x 256 tile of one head is one chunk, which is what views ask for.
inline constexpr int64_t kRunMapChunk = 256;
// Rows of a Q/K chunk: a recomputed 256-row tile reads one chunk of Q and of K at most twice.
inline constexpr int64_t kRunQkChunkRows = 1024;
// Length of a per-token chunk: large enough that one layer's statistics are a few chunks.
inline constexpr int64_t kRunTokenChunk = 65536;
// deflate level: 1 compresses float16 maps nearly as well as 6 at a fraction of the time.
inline constexpr int kRunDeflate = 1;
// Q/K are stored uncompressed: their mantissas are noise-like (deflate kept 85-87% of the bytes of a 6x512 model's
// Q/K at 4K tokens) while deflating them was the largest single cost of a capture.
inline constexpr int kRunQkDeflate = 0;

inline std::string runPyramidPath(int level, bool max) {
    return std::string(max ? "/attention/pyramid_max/" : "/attention/pyramid/") + std::to_string(level);
}

} // namespace attnscope::core

#pragma once
// SplitMix64: a tiny seeded PRNG whose stream is the same on every compiler and standard library.
#include <cassert>
#include <cstdint>

namespace attnscope::core {

// The SplitMix64 finaliser: a bijective 64-bit mix, used to derive independent stream seeds.
constexpr uint64_t mix64(uint64_t x) {
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

class SplitMix64 {
public:
    explicit SplitMix64(uint64_t seed) : m_state(seed) {}

    uint64_t next() {
        m_state += 0x9E3779B97F4A7C15ull;
        return mix64(m_state);
    }
    // Uniform in [0, n). The modulo bias is below 2^-56 for the small n used here; std:: distributions are avoided
    // because their output differs between standard libraries.
    int64_t below(int64_t n) {
        assert(n > 0 && "SplitMix64::below needs a positive bound");
        return static_cast<int64_t>(next() % static_cast<uint64_t>(n));
    }
    // Uniform in [lo, hi].
    int64_t between(int64_t lo, int64_t hi) { return lo + below(hi - lo + 1); }
    // Uniform in [0, 1), 53-bit resolution.
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    // True with probability p.
    bool chance(double p) { return uniform() < p; }

private:
    uint64_t m_state;
};

} // namespace attnscope::core

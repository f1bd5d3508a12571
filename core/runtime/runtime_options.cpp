#include "runtime/runtime_options.hpp"

#include "errors.hpp"

#include <sched.h>

#include <algorithm>
#include <regex>
#include <thread>

namespace attnscope::core {

ComputeDtype parseComputeDtype(const std::string& s) {
    if (s == "f32" || s == "float32" || s == "fp32") return ComputeDtype::F32;
    if (s == "bf16" || s == "bfloat16") return ComputeDtype::BF16;
    if (s == "f16" || s == "float16" || s == "fp16") return ComputeDtype::F16;
    throw ArgumentError("Unknown dtype '" + s + "': use f32, bf16 or f16.");
}

const char* computeDtypeName(ComputeDtype d) {
    switch (d) {
    case ComputeDtype::F32: return "f32";
    case ComputeDtype::BF16: return "bf16";
    case ComputeDtype::F16: return "f16";
    }
    return "?";
}

int availableThreads() {
    cpu_set_t mask;
    if (sched_getaffinity(0, sizeof(mask), &mask) == 0) return std::max(1, CPU_COUNT(&mask));
    return int(std::max(1u, std::thread::hardware_concurrency()));
}

std::string parseDevice(const std::string& s) {
    static const std::regex pattern("cpu|cuda(:[0-9]+)?");
    if (!std::regex_match(s, pattern)) throw ArgumentError("Unknown device '" + s + "': use cpu, cuda or cuda:N.");
    return s;
}

} // namespace attnscope::core

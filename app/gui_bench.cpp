#include "gui_bench.hpp"

#include <iostream>

namespace attnscope::views {

int runFrameBench(const std::string& run, bool) {
    std::cerr << "attnscope: --bench-frames " << run << " is not built yet.\n";
    return 2;
}

} // namespace attnscope::views

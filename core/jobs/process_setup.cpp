#include "jobs/process_setup.hpp"

#include <malloc.h>

namespace attnscope::core {

void configureProcess() {
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

} // namespace attnscope::core

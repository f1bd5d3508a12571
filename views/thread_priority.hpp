#pragma once
// Background threads of the explorer (tile loading, model work) run at a lower CPU priority than the UI thread:
// on 2 cores with Mesa's software renderer, frames are CPU work too, and must win. Call on the thread to lower.
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace attnscope::views {

// Nice 10 for the calling thread only (Linux keeps nice per thread; threads it starts later inherit it, so torch's
// OpenMP pool started from a worker is lowered too). Failure is harmless: the thread keeps its priority.
inline void lowerThisThreadPriority() {
    (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 10);
}

} // namespace attnscope::views

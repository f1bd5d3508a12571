#pragma once
// Runs a job on a worker thread while the calling thread draws a progress bar on stderr; Ctrl-C cancels the job.
// The job's exception (if any) is rethrown on the calling thread.
#include <functional>

namespace attnscope::core {
class Progress;
}

namespace attnscope::app {

void runWithProgressBar(core::Progress& progress, const std::function<void()>& job);

} // namespace attnscope::app

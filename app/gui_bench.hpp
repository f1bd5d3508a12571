#pragma once
// `attnscope --bench-frames RUN`: opens RUN in a real window, measures the time from launch to the first heatmap,
// replays a scripted pan/zoom and prints frame-time percentiles, then replays it again while a capture runs on the
// model worker. Returns the process exit code.
#include <string>

namespace attnscope::views {

int runFrameBench(const std::string& run, bool hidden);

} // namespace attnscope::views

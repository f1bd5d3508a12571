#pragma once
// The scripted pan/zoom of `attnscope --bench-frames RUN`: a fixed sequence of camera actions, one per frame (fit,
// zoom into the diagonal, pan along it, zoom out, jump to the far end, box zoom, ...), the same for every run of the
// same length and viewport; plus frame-time percentiles. Plain math, no ImGui or GL.
#include "heatmap_camera.hpp"

#include <cstddef>
#include <vector>

namespace attnscope::views {

class FrameScript {
public:
    static constexpr int kFrames = 360;

    // Applies to any camera whose viewport and tokens are set before each apply().
    FrameScript() = default;
    int frames() const { return kFrames; }
    int frame() const { return m_frame; }
    bool done() const { return m_frame >= kFrames; }
    // Applies this frame's action to the camera and advances; a no-op once done().
    void apply(HeatmapCamera& camera);
    // What frame i does, for logs: "fit", "zoom in", "pan", "zoom out", "jump", "box zoom", "hold".
    static const char* actionName(int frame);

private:
    int m_frame = 0;
};

struct FramePercentiles {
    double p50 = 0, p95 = 0, p99 = 0, max = 0, mean = 0;
    size_t count = 0;
};

// Nearest-rank percentiles of the values (e.g. frame times in ms); all zero when there are none.
FramePercentiles framePercentiles(std::vector<double> values);

} // namespace attnscope::views

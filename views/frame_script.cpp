#include "frame_script.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace attnscope::views {

namespace {

enum class Act { Fit, ZoomIn, Pan, ZoomOut, Jump, Box, Hold };

struct Phase {
    int frames;
    Act act;
};

// 360 frames: each phase a few dozen frames, so that every zoom level and fresh tiles at both ends are exercised.
constexpr Phase kPhases[] = {
    {10, Act::Fit},     // the whole map while the first tiles arrive
    {50, Act::ZoomIn},  // into the diagonal at a quarter of the run, 1.1x per frame (about 117x)
    {80, Act::Pan},     // along the diagonal, 6 px per frame each way
    {40, Act::ZoomOut}, // back out about the centre
    {1, Act::Jump},     // to the far end of the diagonal
    {40, Act::ZoomIn},  // into the last tokens
    {40, Act::Pan},     // back along the diagonal
    {1, Act::Box},      // box zoom on a square around the view's centre
    {20, Act::Hold},    // let the tiles of the box arrive
    {60, Act::ZoomOut}, // out to the whole map
    {18, Act::Fit},
};

Act actAt(int frame) {
    for (const auto& p : kPhases) {
        if (frame < p.frames) return p.act;
        frame -= p.frames;
    }
    return Act::Hold;
}

} // namespace

const char* FrameScript::actionName(int frame) {
    switch (actAt(frame)) {
    case Act::Fit:
        return "fit";
    case Act::ZoomIn:
        return "zoom in";
    case Act::Pan:
        return "pan";
    case Act::ZoomOut:
        return "zoom out";
    case Act::Jump:
        return "jump";
    case Act::Box:
        return "box zoom";
    case Act::Hold:
        return "hold";
    }
    return "hold";
}

void FrameScript::apply(HeatmapCamera& cam) {
    if (done()) return;
    const double T = double(cam.tokens());
    const CamVec centre{cam.width() / 2, cam.height() / 2};
    const bool farEnd = m_frame >= 10 + 50 + 80 + 40; // after the jump, the second half works near the end
    switch (actAt(m_frame)) {
    case Act::Fit:
        cam.fit();
        break;
    case Act::ZoomIn: {
        // Zoom about the pixel where the diagonal passes (the quarter point first, then the far end).
        const double t = farEnd ? T * 0.97 : T * 0.25;
        if (m_frame == 10 || m_frame == 10 + 50 + 80 + 40 + 1) cam.centreOn({t, t});
        cam.zoomAbout(cam.tokenToPixel({t, t}), 1.1);
        break;
    }
    case Act::Pan:
        // Along the diagonal: the map moves up-left (later tokens come into view), then back.
        farEnd ? cam.pan(6, 6) : cam.pan(-6, -6);
        break;
    case Act::ZoomOut:
        cam.zoomAbout(centre, 1 / 1.1);
        break;
    case Act::Jump:
        cam.centreOn({T * 0.97, T * 0.97});
        break;
    case Act::Box:
        cam.boxZoom({centre.x - cam.width() / 8, centre.y - cam.height() / 8},
                    {centre.x + cam.width() / 8, centre.y + cam.height() / 8});
        break;
    case Act::Hold:
        break;
    }
    ++m_frame;
}

FramePercentiles framePercentiles(std::vector<double> v) {
    FramePercentiles p;
    p.count = v.size();
    if (v.empty()) return p;
    std::sort(v.begin(), v.end());
    // Nearest rank: the smallest value with at least q of the values at or below it.
    auto rank = [&](double q) { return v[size_t(std::clamp(std::ceil(q * double(v.size())) - 1, 0.0, double(v.size() - 1)))]; };
    p.p50 = rank(0.50), p.p95 = rank(0.95), p.p99 = rank(0.99), p.max = v.back();
    p.mean = std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
    return p;
}

} // namespace attnscope::views

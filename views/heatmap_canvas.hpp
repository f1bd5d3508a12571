#pragma once
// One head of one run (or the difference of two runs of the same length) as a GPU heatmap in the current ImGui
// window: tiles from the run's TileLoader at the level the camera asks for (coarser tiles fill in while finer ones
// load), colour-mapped on the GPU; pan, zoom, box zoom, undo; hover tooltip; click selects a token. UI thread only.
#include "colormap.hpp"
#include "explorer_state.hpp"
#include "figure_request.hpp"
#include "heatmap_camera.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace attnscope::views {

struct HeatmapStyle {
    Colormap colormap = Colormap::Viridis;
    // Row: each query row divided by its largest cell over ALL keys at the displayed level (the loader reads the
    // whole row band once); Linear/Log: against the colour-bar top.
    HeatmapScale scale = HeatmapScale::Linear;
    bool cellMax = false; // coarse cells coloured by their largest weight (sinks and peaks stay visible)
    double clipMax = 0;   // colour-bar top; 0: the largest value among the tiles on screen
};

// The colour bar that goes with what was drawn last.
struct HeatmapColourRange {
    double vmin = 0, vmax = 1; // Difference: -range .. +range
    bool difference = false;
    HeatmapScale scale = HeatmapScale::Linear;
    Colormap colormap = Colormap::Viridis;
};

struct ScreenRect {
    float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    bool empty() const { return x1 <= x0 || y1 <= y0; }
};

class HeatmapCanvas {
public:
    static constexpr int64_t kTileSide = 256; // cells per tile side: one tile is one frame's upload budget

    // Two canvases given the same camera pan and zoom together.
    explicit HeatmapCanvas(std::shared_ptr<HeatmapCamera> camera = nullptr);
    ~HeatmapCanvas();
    HeatmapCanvas(const HeatmapCanvas&) = delete;
    HeatmapCanvas& operator=(const HeatmapCanvas&) = delete;

    // Draws head (layer, head) of `run` at the ImGui cursor, width x height pixels (<= 0: the rest of the content
    // region), axes included; with `minus`, run - minus on a diverging map. Input is handled when the canvas is
    // hovered or its window focused; a click sets state.token. Errors go to state.status once.
    void draw(ExplorerState& state, const OpenRun& run, int64_t layer, int64_t head, const OpenRun* minus = nullptr,
              float width = 0, float height = 0);

    HeatmapStyle& style() { return m_style; }
    const HeatmapStyle& style() const { return m_style; }
    const std::shared_ptr<HeatmapCamera>& camera() const { return m_camera; }
    void setCamera(std::shared_ptr<HeatmapCamera> camera);

    // Camera history (pan, zoom, reset are recorded): false when there is nothing to go back/forward to.
    bool undo();
    bool redo();
    void resetView();

    size_t tilesPending() const { return m_pending; } // tiles on screen not drawn at their level yet
    bool hasContent() const { return m_hasContent; }  // at least one tile of the current head was drawn
    ScreenRect cellsRect() const { return m_cellsRect; } // where the map's cells are on screen (clipped to the canvas)
    ScreenRect canvasRect() const { return m_canvasRect; }
    int level() const { return m_level; } // the level of the tiles asked for: cells of 2^level tokens
    HeatmapColourRange colourRange() const { return m_range; }
    // Puts what is in view into a figure request: the token range (empty when all T tokens are in view), colormap,
    // scale, "max cell" and colour-bar top. False when no token is in view.
    bool describeView(int64_t tokens, FigureRequest& request) const;
    size_t gpuBytes() const;
    void setGpuBudget(size_t bytes) { m_gpuBudget = bytes; }
    void setUploadsPerFrame(int tiles) { m_uploadsPerFrame = tiles; }

    struct Impl; // tiles, textures and GL (heatmap_canvas.cpp)

private:
    void handleInput(ExplorerState& state, const OpenRun& run, bool hovered);
    void pushHistory();

    std::shared_ptr<HeatmapCamera> m_camera;
    std::unique_ptr<Impl> m_impl;
    HeatmapStyle m_style;
    std::vector<HeatmapCamera::State> m_undo, m_redo;
    double m_lastWheelTime = -1;
    bool m_boxing = false;
    float m_pressX = 0, m_pressY = 0;
    size_t m_pending = 0;
    bool m_hasContent = false;
    ScreenRect m_cellsRect, m_canvasRect;
    int m_level = 0;
    HeatmapColourRange m_range;
    size_t m_gpuBudget = size_t(192) << 20;
    int m_uploadsPerFrame = 4;
};

} // namespace attnscope::views

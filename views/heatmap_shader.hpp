#pragma once
// The heatmap's GL side: tiles of attention (R32F textures) colour-mapped by a fragment shader straight into the bound
// framebuffer, inside the canvas's viewport (no offscreen pass: on a software renderer every full-canvas pass costs
// milliseconds). Colours come from a 256x1 texture built from views/colormap.hpp (or the diverging map for
// differences), so screen and figures agree. Cells above the causal diagonal get the mask colour. UI thread only.
#include "colormap.hpp"
#include "gl_objects.hpp"
#include "heatmap_camera.hpp"

#include <array>
#include <memory>

namespace attnscope::views {

enum class HeatmapShade { Linear, Log, Row, Difference };

// Pixels of the bound framebuffer, GL's way: origin bottom-left.
struct GlPixelRect {
    int x = 0, y = 0, w = 0, h = 0;
};

// One tile to draw: where (pixels of the canvas, y down), which cells (origin in cells of its level), its data.
struct HeatmapQuad {
    double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    int64_t row0 = 0, col0 = 0;
    const GlTexture* a = nullptr;      // values, cols x rows
    const GlTexture* b = nullptr;      // Difference: the values subtracted
    const GlTexture* rowMax = nullptr; // Row: rows x 1, each row's maximum over all keys
};

class HeatmapRenderer {
public:
    static constexpr std::array<float, 4> kMaskColour{0.16f, 0.16f, 0.19f, 1.0f};

    // Compiles the program; throws core::UnsupportedError (one sentence) when the driver refuses it.
    void prepare();
    // Draws into `viewport` (a canvas of width x height pixels), clipped to `scissor`; saves the GL state it changes.
    // Calls prepare().
    void begin(GlPixelRect viewport, GlPixelRect scissor, int width, int height, Colormap map, HeatmapShade shade,
               double vmin, double vmax);
    void draw(const HeatmapQuad& quad);
    // Restores the GL state begin() saved.
    void end();

private:
    void setColours(Colormap map, bool diverging);

    GlProgram m_program;
    std::unique_ptr<GlVertexArray> m_vao; // made with the program (needs the context)
    std::unique_ptr<GlBuffer> m_corners;
    GlTexture m_colours;
    int m_coloursKey = -1;
    int m_width = 1, m_height = 1;
    struct Saved {
        GLint program = 0, vao = 0, texture = 0, activeTexture = 0, viewport[4] = {}, scissorBox[4] = {};
        GLboolean blend = 0, scissor = 0, depth = 0, cull = 0;
    } m_saved;
    struct Uniforms {
        GLint rect = -1, cells = -1, origin = -1, mode = -1, vmin = -1, vmax = -1, mask = -1, a = -1, b = -1,
              rowMax = -1, colours = -1;
    } m_u;
};

} // namespace attnscope::views

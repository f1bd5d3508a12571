#include "heatmap_shader.hpp"

#include <cmath>
#include <vector>

namespace attnscope::views {

namespace {

const char* kVertex = R"(#version 330 core
layout(location = 0) in vec2 aCorner; // (0, 0) top-left .. (1, 1) bottom-right
uniform vec4 uRect;                   // x0, y0 (top), x1, y1 (bottom) in normalised device coordinates
uniform vec2 uCells;                  // cols, rows
out vec2 vCell;                       // (col, row) inside the tile
void main() {
    vCell = aCorner * uCells;
    gl_Position = vec4(mix(uRect.xy, uRect.zw, aCorner), 0.0, 1.0);
}
)";

const char* kFragment = R"(#version 330 core
in vec2 vCell;
out vec4 fragColour;
uniform sampler2D uA, uB, uRowMax, uColours;
uniform int uMode;      // 0 linear, 1 log, 2 row, 3 difference
uniform ivec2 uOrigin;  // (row0, col0) of the tile, in cells of its level
uniform float uVmin, uVmax;
uniform vec4 uMask;
void main() {
    ivec2 size = textureSize(uA, 0);
    ivec2 c = clamp(ivec2(floor(vCell)), ivec2(0), size - ivec2(1));
    // Cell (i, j) of a level holds keys after all its queries exactly when j > i.
    if (uOrigin.y + c.x > uOrigin.x + c.y) {
        fragColour = uMask;
        return;
    }
    float v = texelFetch(uA, c, 0).r;
    float t = 0.0;
    if (uMode == 3) {
        t = uVmax > 0.0 ? 0.5 + 0.5 * (v - texelFetch(uB, c, 0).r) / uVmax : 0.5;
    } else if (uMode == 2) {
        float m = texelFetch(uRowMax, ivec2(c.y, 0), 0).r;
        t = m > 0.0 ? v / m : 0.0;
    } else if (uMode == 1) {
        t = v > uVmin ? log(v / uVmin) / log(uVmax / uVmin) : 0.0;
    } else {
        t = uVmax > 0.0 ? v / uVmax : 0.0;
    }
    t = clamp(t, 0.0, 1.0);
    // Texel centres: t = 0 and t = 1 land exactly on the first and last colours.
    fragColour = vec4(texture(uColours, vec2((t * 255.0 + 0.5) / 256.0, 0.5)).rgb, 1.0);
}
)";

} // namespace

void HeatmapRenderer::prepare() {
    if (m_program) return;
    m_program = GlProgram("heatmap", kVertex, kFragment);
    m_u.rect = m_program.uniform("uRect"), m_u.cells = m_program.uniform("uCells");
    m_u.origin = m_program.uniform("uOrigin"), m_u.mode = m_program.uniform("uMode");
    m_u.vmin = m_program.uniform("uVmin"), m_u.vmax = m_program.uniform("uVmax");
    m_u.mask = m_program.uniform("uMask"), m_u.a = m_program.uniform("uA"), m_u.b = m_program.uniform("uB");
    m_u.rowMax = m_program.uniform("uRowMax"), m_u.colours = m_program.uniform("uColours");
    m_vao = std::make_unique<GlVertexArray>();
    m_corners = std::make_unique<GlBuffer>();
    m_vao->bind();
    static const float kCorners[8] = {0, 0, 1, 0, 0, 1, 1, 1};
    m_corners->upload(GL_ARRAY_BUFFER, kCorners, sizeof kCorners);
    glEnableVertexAttribArray(0);
    glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 0, nullptr);
}

void HeatmapRenderer::setColours(Colormap map, bool diverging) {
    const int key = diverging ? 100 : int(map);
    if (key == m_coloursKey) return;
    std::vector<unsigned char> rgba(256 * 4);
    for (int i = 0; i < 256; ++i) {
        float c[3];
        if (diverging) {
            divergingRgb(i / 255.0, c);
        } else {
            const Rgb x = colormapRgb(map, float(i) / 255.0f);
            c[0] = x.r, c[1] = x.g, c[2] = x.b;
        }
        for (int k = 0; k < 3; ++k)
            rgba[size_t(i * 4 + k)] = (unsigned char)std::lround(c[k] * 255.0f);
        rgba[size_t(i * 4 + 3)] = 255;
    }
    m_colours = GlTexture(256, 1, GL_RGBA8, GL_RGBA, GL_UNSIGNED_BYTE, rgba.data(), GL_LINEAR);
    m_coloursKey = key;
}

void HeatmapRenderer::begin(GlPixelRect viewport, GlPixelRect scissor, int width, int height, Colormap map,
                            HeatmapShade shade, double vmin, double vmax) {
    // Called inside ImGui's render pass: leave the state as we found it.
    glGetIntegerv(GL_CURRENT_PROGRAM, &m_saved.program);
    glGetIntegerv(GL_VERTEX_ARRAY_BINDING, &m_saved.vao);
    glGetIntegerv(GL_ACTIVE_TEXTURE, &m_saved.activeTexture);
    glActiveTexture(GL_TEXTURE0);
    glGetIntegerv(GL_TEXTURE_BINDING_2D, &m_saved.texture);
    glGetIntegerv(GL_VIEWPORT, m_saved.viewport);
    glGetIntegerv(GL_SCISSOR_BOX, m_saved.scissorBox);
    m_saved.blend = glIsEnabled(GL_BLEND), m_saved.scissor = glIsEnabled(GL_SCISSOR_TEST);
    m_saved.depth = glIsEnabled(GL_DEPTH_TEST), m_saved.cull = glIsEnabled(GL_CULL_FACE);

    prepare();
    setColours(map, shade == HeatmapShade::Difference);
    m_width = std::max(width, 1), m_height = std::max(height, 1);
    glViewport(viewport.x, viewport.y, std::max(viewport.w, 1), std::max(viewport.h, 1));
    glEnable(GL_SCISSOR_TEST);
    glScissor(scissor.x, scissor.y, std::max(scissor.w, 0), std::max(scissor.h, 0));
    glDisable(GL_BLEND), glDisable(GL_DEPTH_TEST), glDisable(GL_CULL_FACE);
    m_program.use();
    m_vao->bind();
    glUniform1i(m_u.mode, int(shade));
    glUniform1f(m_u.vmin, float(vmin));
    glUniform1f(m_u.vmax, float(vmax));
    glUniform4f(m_u.mask, kMaskColour[0], kMaskColour[1], kMaskColour[2], kMaskColour[3]);
    glUniform1i(m_u.a, 0), glUniform1i(m_u.b, 1), glUniform1i(m_u.rowMax, 2), glUniform1i(m_u.colours, 3);
    m_colours.bind(3);
}

void HeatmapRenderer::draw(const HeatmapQuad& q) {
    if (!q.a) return;
    auto ndcX = [&](double x) { return float(2.0 * x / m_width - 1.0); };
    auto ndcY = [&](double y) { return float(1.0 - 2.0 * y / m_height); };
    glUniform4f(m_u.rect, ndcX(q.x0), ndcY(q.y0), ndcX(q.x1), ndcY(q.y1));
    glUniform2f(m_u.cells, float(q.a->width()), float(q.a->height()));
    glUniform2i(m_u.origin, GLint(q.row0), GLint(q.col0));
    q.a->bind(0);
    // Unused samplers still need a valid texture on some drivers: fall back to A.
    (q.b ? q.b : q.a)->bind(1);
    (q.rowMax ? q.rowMax : q.a)->bind(2);
    glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
}

void HeatmapRenderer::end() {
    glUseProgram(GLuint(m_saved.program));
    glBindVertexArray(GLuint(m_saved.vao));
    for (int unit : {3, 2, 1, 0}) {
        glActiveTexture(GLenum(GL_TEXTURE0 + unit));
        glBindTexture(GL_TEXTURE_2D, unit == 0 ? GLuint(m_saved.texture) : 0);
    }
    glActiveTexture(GLenum(m_saved.activeTexture));
    glViewport(m_saved.viewport[0], m_saved.viewport[1], m_saved.viewport[2], m_saved.viewport[3]);
    glScissor(m_saved.scissorBox[0], m_saved.scissorBox[1], m_saved.scissorBox[2], m_saved.scissorBox[3]);
    auto restore = [](GLenum cap, GLboolean on) { on ? glEnable(cap) : glDisable(cap); };
    restore(GL_BLEND, m_saved.blend), restore(GL_SCISSOR_TEST, m_saved.scissor);
    restore(GL_DEPTH_TEST, m_saved.depth), restore(GL_CULL_FACE, m_saved.cull);
}

} // namespace attnscope::views

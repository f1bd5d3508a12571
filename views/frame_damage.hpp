#pragma once
// Which part of the window changed since the last frame: each ImGui draw list (one per window, popup, tooltip) is
// hashed (vertices, indices, commands); the damage is the union of the old and new bounds of every list that changed,
// appeared or went away. A list that draws a texture whose content can change without its geometry changing (any
// texture but the font atlas and the stable ones registered here) or calls back into GL (any callback but ImGui's
// reset: the heatmap's tiles) is damaged every frame. A new order of lists or a new display size damages everything.
// GlWindow redraws only the damage (Mesa's software renderer pays per pixel: a still window costs nothing while the
// heatmap pans). UI thread only.
#include <imgui.h>

#include <cstddef>
#include <map>
#include <vector>

namespace attnscope::views {

struct DamageRect {
    float x0 = 0, y0 = 0, x1 = 0, y1 = 0; // display coordinates (ImGui's), half-open
    bool empty() const { return x1 <= x0 || y1 <= y0; }
};

class FrameDamage {
public:
    // The region to redraw this frame; `forceFull` (a resized or fresh framebuffer) damages everything.
    DamageRect update(const ImDrawData& data, bool forceFull);

    // A texture whose pixels never change while it exists (its geometry in a list is then all the hash needs).
    static void registerStableTexture(ImTextureID texture);
    static void unregisterStableTexture(ImTextureID texture);

private:
    struct ListState {
        size_t hash = 0;
        DamageRect bounds;
    };
    std::map<const ImDrawList*, ListState> m_lists;
    std::vector<const ImDrawList*> m_order;
    ImVec2 m_displaySize{-1, -1};
};

// Narrows every command's clip rectangle to `damage`, so that ImGui's renderer draws nothing outside it.
void clipToDamage(ImDrawData& data, const DamageRect& damage);

} // namespace attnscope::views

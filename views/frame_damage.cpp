#include "frame_damage.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <functional>
#include <set>
#include <string_view>

namespace attnscope::views {

namespace {

std::set<ImTextureID>& stableTextures() {
    static std::set<ImTextureID> textures;
    return textures;
}

template <typename T> size_t hashBytes(const T* data, size_t count) {
    return std::hash<std::string_view>()(std::string_view(reinterpret_cast<const char*>(data), count * sizeof(T)));
}

size_t combine(size_t seed, size_t value) {
    return seed ^ (value + 0x9e3779b97f4a7c15ull + (seed << 6) + (seed >> 2));
}

DamageRect unite(const DamageRect& a, const DamageRect& b) {
    if (a.empty()) return b;
    if (b.empty()) return a;
    return {std::min(a.x0, b.x0), std::min(a.y0, b.y0), std::max(a.x1, b.x1), std::max(a.y1, b.y1)};
}

struct ListSummary {
    size_t hash = 0;
    DamageRect bounds;
    bool volatileContent = false;
};

ListSummary summarise(const ImDrawList& list, ImTextureID font) {
    ListSummary s;
    s.hash = combine(hashBytes(list.VtxBuffer.Data, size_t(list.VtxBuffer.Size)),
                     hashBytes(list.IdxBuffer.Data, size_t(list.IdxBuffer.Size)));
    for (const ImDrawCmd& c : list.CmdBuffer) {
        if (c.UserCallback != nullptr && c.UserCallback != ImDrawCallback_ResetRenderState)
            s.volatileContent = true; // draws from state outside the list
        if (c.UserCallback == nullptr && c.TextureId != font && !stableTextures().count(c.TextureId))
            s.volatileContent = true;
        s.hash = combine(s.hash, hashBytes(&c.ClipRect, 1));
        s.hash = combine(s.hash, size_t(reinterpret_cast<uintptr_t>(c.TextureId)) ^ (size_t(c.ElemCount) << 24) ^
                                     (size_t(c.IdxOffset) << 4) ^ c.VtxOffset);
        s.hash = combine(s.hash, size_t(reinterpret_cast<uintptr_t>(c.UserCallback)) ^
                                     size_t(reinterpret_cast<uintptr_t>(c.UserCallbackData)));
        if (c.UserCallback != nullptr) {
            s.bounds = unite(s.bounds, {c.ClipRect.x, c.ClipRect.y, c.ClipRect.z, c.ClipRect.w});
            continue;
        }
        // Window decorations are clipped to the whole display: the vertices drawn, not the clip, bound a list.
        DamageRect drawn{FLT_MAX, FLT_MAX, -FLT_MAX, -FLT_MAX};
        for (unsigned i = 0; i < c.ElemCount; ++i) {
            const ImVec2 p = list.VtxBuffer.Data[c.VtxOffset + list.IdxBuffer.Data[c.IdxOffset + i]].pos;
            drawn.x0 = std::min(drawn.x0, p.x), drawn.y0 = std::min(drawn.y0, p.y);
            drawn.x1 = std::max(drawn.x1, p.x), drawn.y1 = std::max(drawn.y1, p.y);
        }
        drawn = {std::max(drawn.x0, c.ClipRect.x), std::max(drawn.y0, c.ClipRect.y), std::min(drawn.x1, c.ClipRect.z),
                 std::min(drawn.y1, c.ClipRect.w)};
        // Whole pixels around the vertices: anti-aliased edges reach half a pixel out.
        if (!drawn.empty())
            s.bounds = unite(s.bounds, {std::floor(drawn.x0) - 1, std::floor(drawn.y0) - 1, std::ceil(drawn.x1) + 1,
                                        std::ceil(drawn.y1) + 1});
    }
    return s;
}

} // namespace

void FrameDamage::registerStableTexture(ImTextureID texture) {
    stableTextures().insert(texture);
}
void FrameDamage::unregisterStableTexture(ImTextureID texture) {
    stableTextures().erase(texture);
}

DamageRect FrameDamage::update(const ImDrawData& data, bool forceFull) {
    const DamageRect display{data.DisplayPos.x, data.DisplayPos.y, data.DisplayPos.x + data.DisplaySize.x,
                             data.DisplayPos.y + data.DisplaySize.y};
    std::vector<const ImDrawList*> order(data.CmdLists, data.CmdLists + data.CmdListsCount);
    const bool full =
        forceFull || order != m_order || data.DisplaySize.x != m_displaySize.x || data.DisplaySize.y != m_displaySize.y;
    const ImTextureID font = ImGui::GetIO().Fonts->TexID;
    std::map<const ImDrawList*, ListState> lists;
    DamageRect damage;
    for (const ImDrawList* list : order) {
        const ListSummary s = summarise(*list, font);
        lists[list] = {s.hash, s.bounds};
        const auto old = m_lists.find(list);
        if (old == m_lists.end())
            damage = unite(damage, s.bounds);
        else if (s.volatileContent || old->second.hash != s.hash)
            damage = unite(damage, unite(s.bounds, old->second.bounds));
    }
    for (const auto& [list, state] : m_lists)
        if (!lists.count(list)) damage = unite(damage, state.bounds);
    m_lists = std::move(lists);
    m_order = std::move(order);
    m_displaySize = data.DisplaySize;
    if (full) return display;
    damage = {std::max(damage.x0, display.x0), std::max(damage.y0, display.y0), std::min(damage.x1, display.x1),
              std::min(damage.y1, display.y1)};
    return damage.empty() ? DamageRect{} : damage;
}

void clipToDamage(ImDrawData& data, const DamageRect& damage) {
    for (int i = 0; i < data.CmdListsCount; ++i)
        for (ImDrawCmd& c : data.CmdLists[i]->CmdBuffer) {
            c.ClipRect.x = std::max(c.ClipRect.x, damage.x0), c.ClipRect.y = std::max(c.ClipRect.y, damage.y0);
            c.ClipRect.z = std::min(c.ClipRect.z, damage.x1), c.ClipRect.w = std::min(c.ClipRect.w, damage.y1);
        }
}

} // namespace attnscope::views

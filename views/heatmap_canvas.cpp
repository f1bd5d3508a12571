#include "heatmap_canvas.hpp"

#include "heatmap_axes.hpp"
#include "heatmap_shader.hpp"
#include "tile_loader.hpp"

#include "errors.hpp"

#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <set>
#include <tuple>

namespace attnscope::views {

namespace {

struct TexKey {
    const TileLoader* loader = nullptr;
    TileRequest request;
    auto operator<=>(const TexKey&) const = default;
};

struct TexEntry {
    GlTexture texture;
    core::Tile tile;           // Cells: values kept for the tooltip and the colour range
    std::vector<float> rowMax; // RowMax
    float maxValue = 0;
    float diffMax = -1; // largest |A - B| against diffWith (computed once per pair)
    const TileLoader* diffWith = nullptr;
    uint64_t used = 0;
};

// What one on-screen tile needs to be drawn, when all of it is there.
struct Ready {
    TexEntry* a = nullptr;
    TexEntry* b = nullptr;
    TexEntry* rowMax = nullptr;
};

// What one draw() hands to the render pass: ImGui renders after every view has drawn, so the tiles are drawn from a
// draw-list callback with what draw() decided.
struct TilePass {
    ImVec2 lo;      // the cells' top-left corner, screen pixels
    int width = 0, height = 0;
    Colormap colormap = Colormap::Viridis;
    HeatmapShade shade = HeatmapShade::Linear;
    double vmin = 0, vmax = 1;
    std::vector<HeatmapQuad> quads;
};

// Tiles wholly above the diagonal (every key after every query) are never loaded: paint them the mask colour, one
// rectangle per tile row, clamped to the canvas so that deep zooms keep small coordinates.
void drawMaskedTiles(ImDrawList* dl, const HeatmapCamera& cam, int64_t tokens, int level, ImVec2 lo, int cw, int ch) {
    const auto& k = HeatmapRenderer::kMaskColour;
    const ImU32 colour = ImGui::ColorConvertFloat4ToU32(ImVec4(k[0], k[1], k[2], k[3]));
    const TileRange range = cam.visibleTiles(level, HeatmapCanvas::kTileSide);
    const double span = std::ldexp(double(HeatmapCanvas::kTileSide), level); // tokens per tile side
    auto clampX = [&](double x) { return float(std::clamp(x, -1.0, double(cw) + 1.0)) + lo.x; };
    auto clampY = [&](double y) { return float(std::clamp(y, -1.0, double(ch) + 1.0)) + lo.y; };
    for (int64_t tr = range.row0; tr < range.row1; ++tr) {
        const int64_t c0 = std::max(range.col0, tr + 1);
        if (c0 >= range.col1) continue;
        const double t = double(tokens);
        const CamVec a = cam.tokenToPixel({std::min(t, double(c0) * span), std::min(t, double(tr) * span)});
        const CamVec b = cam.tokenToPixel({std::min(t, double(range.col1) * span), std::min(t, double(tr + 1) * span)});
        if (b.x > a.x && b.y > a.y) dl->AddRectFilled(ImVec2(clampX(a.x), clampY(a.y)), ImVec2(clampX(b.x), clampY(b.y)), colour);
    }
}

} // namespace

struct HeatmapCanvas::Impl {
    // Callbacks find their canvas by id: a canvas destroyed between draw() and the render pass is skipped.
    static std::map<uint64_t, Impl*>& registry() {
        static std::map<uint64_t, Impl*> canvases;
        return canvases;
    }
    static void drawTiles(const ImDrawList*, const ImDrawCmd* cmd);

    Impl() {
        static uint64_t next = 0;
        id = ++next;
        registry()[id] = this;
    }
    ~Impl() { registry().erase(id); }

    uint64_t id = 0;
    HeatmapRenderer renderer;
    std::vector<TilePass> passes; // this ImGui frame's
    int passesFrame = -1;
    uint64_t frameStart = 0; // the draw count when this ImGui frame began: textures used since stay
    std::string renderError;
    std::map<TexKey, TexEntry> textures;
    size_t bytes = 0;
    std::deque<std::pair<const TileLoader*, TileResult>> uploads;
    std::set<TexKey> queued;
    // Client ids per loader; the weak pointer tells when a loader (and every texture keyed by its address) is gone.
    std::map<const TileLoader*, std::pair<std::weak_ptr<TileLoader>, int>> clients;
    std::set<std::string> reported;
    uint64_t frame = 0;
    std::string glError;

    int client(const std::shared_ptr<TileLoader>& loader) {
        auto it = clients.find(loader.get());
        if (it == clients.end()) it = clients.emplace(loader.get(), std::make_pair(loader, loader->addClient())).first;
        return it->second.second;
    }

    void forgetDeadLoaders() {
        for (auto it = clients.begin(); it != clients.end();) {
            if (!it->second.first.expired()) {
                ++it;
                continue;
            }
            for (auto t = textures.begin(); t != textures.end();)
                t = t->first.loader == it->first ? (bytes -= t->second.texture.bytes(), textures.erase(t)) : std::next(t);
            std::erase_if(uploads, [&](const auto& u) { return u.first == it->first; });
            std::erase_if(queued, [&](const TexKey& k) { return k.loader == it->first; });
            it = clients.erase(it);
        }
    }

    TexEntry* find(const TileLoader* loader, const TileRequest& r) {
        auto it = textures.find({loader, r});
        if (it == textures.end()) return nullptr;
        it->second.used = frame;
        return &it->second;
    }
    bool has(const TileLoader* loader, const TileRequest& r) const {
        const TexKey key{loader, r};
        return textures.count(key) || queued.count(key);
    }

    void collect(ExplorerState& state, const std::shared_ptr<TileLoader>& loader) {
        for (auto& res : loader->takeFinished(client(loader))) {
            if (!res.error.empty()) {
                if (reported.insert(res.error).second && state.status) state.status(res.error);
                continue;
            }
            const TexKey key{loader.get(), res.request};
            if (textures.count(key) || !queued.insert(key).second) continue;
            uploads.emplace_back(loader.get(), std::move(res));
        }
    }

    void upload(int budget) {
        for (int n = 0; n < budget && !uploads.empty(); ++n) {
            auto [loader, res] = std::move(uploads.front());
            uploads.pop_front();
            const TexKey key{loader, res.request};
            queued.erase(key);
            TexEntry e;
            if (res.request.kind == TileKind::Cells) {
                if (res.tile.rows == 0 || res.tile.cols == 0) continue;
                e.texture = GlTexture(int(res.tile.cols), int(res.tile.rows), GL_R32F, GL_RED, GL_FLOAT,
                                      res.tile.values.data());
                e.maxValue = *std::max_element(res.tile.values.begin(), res.tile.values.end());
                e.tile = std::move(res.tile);
            } else {
                if (res.rowMax.empty()) continue;
                e.texture = GlTexture(int(res.rowMax.size()), 1, GL_R32F, GL_RED, GL_FLOAT, res.rowMax.data());
                e.rowMax = std::move(res.rowMax);
            }
            e.used = frame;
            bytes += e.texture.bytes();
            textures[key] = std::move(e);
        }
    }

    void evict(size_t budget) {
        if (bytes <= budget) return;
        std::vector<std::map<TexKey, TexEntry>::iterator> old;
        for (auto it = textures.begin(); it != textures.end(); ++it)
            if (it->second.used < frameStart) old.push_back(it);
        std::sort(old.begin(), old.end(), [](auto a, auto b) { return a->second.used < b->second.used; });
        for (auto it : old) {
            if (bytes <= budget) break;
            bytes -= it->second.texture.bytes();
            textures.erase(it);
        }
    }
};

void HeatmapCanvas::Impl::drawTiles(const ImDrawList*, const ImDrawCmd* cmd) {
    const auto key = uint64_t(reinterpret_cast<uintptr_t>(cmd->UserCallbackData));
    const auto it = registry().find(key >> 16);
    if (it == registry().end()) return;
    Impl& m = *it->second;
    if (m.passesFrame != ImGui::GetFrameCount() || (key & 0xffff) >= m.passes.size()) return;
    const TilePass& pass = m.passes[key & 0xffff];
    const ImDrawData* data = ImGui::GetDrawData();
    const ImVec2 pos = data->DisplayPos, scale = data->FramebufferScale;
    const double fbHeight = double(data->DisplaySize.y) * scale.y;
    auto toGl = [&](double x0, double y0, double x1, double y1) {
        const long gx0 = std::lround((x0 - pos.x) * scale.x), gx1 = std::lround((x1 - pos.x) * scale.x);
        const long gy0 = std::lround(fbHeight - (y1 - pos.y) * scale.y), gy1 = std::lround(fbHeight - (y0 - pos.y) * scale.y);
        return GlPixelRect{int(gx0), int(gy0), int(gx1 - gx0), int(gy1 - gy0)};
    };
    const GlPixelRect viewport = toGl(pass.lo.x, pass.lo.y, pass.lo.x + pass.width, pass.lo.y + pass.height);
    const GlPixelRect scissor = toGl(cmd->ClipRect.x, cmd->ClipRect.y, cmd->ClipRect.z, cmd->ClipRect.w);
    try {
        m.renderer.begin(viewport, scissor, pass.width, pass.height, pass.colormap, pass.shade, pass.vmin, pass.vmax);
        for (const HeatmapQuad& q : pass.quads)
            m.renderer.draw(q);
        m.renderer.end();
    } catch (const core::Error& e) {
        m.renderError = e.what(); // reported by the next draw(): we are inside ImGui's render pass here
    }
}

HeatmapCanvas::HeatmapCanvas(std::shared_ptr<HeatmapCamera> camera)
    : m_camera(camera ? std::move(camera) : std::make_shared<HeatmapCamera>()), m_impl(std::make_unique<Impl>()) {}

HeatmapCanvas::~HeatmapCanvas() = default;

void HeatmapCanvas::setCamera(std::shared_ptr<HeatmapCamera> camera) {
    if (camera) m_camera = std::move(camera);
}

size_t HeatmapCanvas::gpuBytes() const {
    return m_impl->bytes;
}

void HeatmapCanvas::pushHistory() {
    const auto s = m_camera->state();
    if (m_undo.empty() || !(m_undo.back() == s)) m_undo.push_back(s);
    if (m_undo.size() > 200) m_undo.erase(m_undo.begin());
    m_redo.clear();
}

bool HeatmapCanvas::undo() {
    if (m_undo.empty()) return false;
    m_redo.push_back(m_camera->state());
    m_camera->setState(m_undo.back());
    m_undo.pop_back();
    return true;
}

bool HeatmapCanvas::redo() {
    if (m_redo.empty()) return false;
    m_undo.push_back(m_camera->state());
    m_camera->setState(m_redo.back());
    m_redo.pop_back();
    return true;
}

void HeatmapCanvas::resetView() {
    pushHistory();
    m_camera->fit();
}

void HeatmapCanvas::draw(ExplorerState& state, const OpenRun& run, int64_t layer, int64_t head, const OpenRun* minus,
                         float width, float height) {
    Impl& m = *m_impl;
    ++m.frame;
    if (m.passesFrame != ImGui::GetFrameCount()) {
        m.passes.clear();
        m.passesFrame = ImGui::GetFrameCount();
        m.frameStart = m.frame;
    }
    m.forgetDeadLoaders();
    m_hasContent = false, m_pending = 0;
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    const ImVec2 size(width > 0 ? width : std::max(avail.x, 64.0f), height > 0 ? height : std::max(avail.y, 64.0f));
    const ImVec2 origin = ImGui::GetCursorScreenPos();
    m_canvasRect = {origin.x, origin.y, origin.x + size.x, origin.y + size.y};
    const ImVec2 lo(origin.x + kAxisLeftPx, origin.y + kAxisTopPx), hi(origin.x + size.x, origin.y + size.y);
    const int cw = std::max(1, int(hi.x - lo.x)), ch = std::max(1, int(hi.y - lo.y));
    ImGui::InvisibleButton("##heatmap", size, ImGuiButtonFlags_MouseButtonLeft);
    const bool hovered = ImGui::IsItemHovered();
    if (!run || !run.tiles) {
        m_cellsRect = {};
        return;
    }
    const bool diff = minus && *minus && minus->tiles && minus->snapshot->tokenCount() == run.snapshot->tokenCount();
    const int64_t T = run.snapshot->tokenCount();
    m_camera->setTokens(T);
    m_camera->setViewport(cw, ch);
    handleInput(state, run, hovered);

    const HeatmapCamera& cam = *m_camera;
    const int maxLevel = HeatmapCamera::maxLevelFor(T), overview = HeatmapCamera::overviewLevel(T, kTileSide);
    m_level = cam.level(maxLevel);
    const bool row = !diff && m_style.scale == HeatmapScale::Row;
    auto reduceAt = [&](int level) {
        return level > 0 && m_style.cellMax ? core::TileReduce::Max : core::TileReduce::Mean;
    };
    auto cells = [&](int level, int64_t tr, int64_t tc) {
        return TileRequest{layer, head, level, tr * kTileSide, tc * kTileSide, kTileSide, reduceAt(level),
                           TileKind::Cells};
    };
    auto band = [&](int level, int64_t tr) {
        return TileRequest{layer, head, level, tr * kTileSide, 0, kTileSide, reduceAt(level), TileKind::RowMax};
    };
    const TileLoader* la = run.tiles.get();
    const TileLoader* lb = diff ? minus->tiles.get() : nullptr;

    // Ask for what is on screen (the one-tile overview first: it keeps every later frame free of holes).
    const auto visible = orderedTiles(cam.visibleTiles(m_level, kTileSide), cam);
    std::vector<TileRequest> wantA, wantB;
    auto want = [&](const TileRequest& r, bool alsoB) {
        if (!m.has(la, r)) wantA.push_back(r);
        if (alsoB && lb && !m.has(lb, r)) wantB.push_back(r);
    };
    want(cells(overview, 0, 0), true);
    if (row) want(band(overview, 0), false);
    for (const auto& [tr, tc] : visible) {
        want(cells(m_level, tr, tc), true);
        if (row) want(band(m_level, tr), false);
    }
    run.tiles->request(std::move(wantA), m.client(run.tiles));
    if (diff) minus->tiles->request(std::move(wantB), m.client(minus->tiles));
    m.collect(state, run.tiles);
    if (diff) m.collect(state, minus->tiles);
    m.upload(m_uploadsPerFrame);

    auto ready = [&](int level, int64_t tr, int64_t tc) -> Ready {
        Ready r;
        if (!(r.a = m.find(la, cells(level, tr, tc)))) return {};
        if (lb && !(r.b = m.find(lb, cells(level, tr, tc)))) return {};
        if (row && !(r.rowMax = m.find(la, band(level, tr)))) return {};
        return r;
    };
    // Coarsest first, so that finer tiles cover their parents.
    std::map<std::tuple<int, int64_t, int64_t>, Ready, std::greater<>> toDraw;
    for (const auto& [tr, tc] : visible) {
        if (Ready r = ready(m_level, tr, tc); r.a) {
            toDraw[{m_level, tr, tc}] = r;
            continue;
        }
        ++m_pending;
        bool covered = false;
        for (int l = m_level + 1; l <= maxLevel && !covered; ++l) {
            const int64_t ar = tr >> (l - m_level), ac = tc >> (l - m_level);
            if (Ready r = ready(l, ar, ac); r.a) toDraw[{l, ar, ac}] = r, covered = true;
        }
        if (covered || m_level == 0) continue;
        // Zooming out: the finer tiles already here.
        for (int64_t i = 0; i < 4; ++i)
            if (Ready r = ready(m_level - 1, tr * 2 + i / 2, tc * 2 + i % 2); r.a)
                toDraw[{m_level - 1, tr * 2 + i / 2, tc * 2 + i % 2}] = r;
    }

    // The colour range over what is drawn at the requested level (or what stands in for it).
    double vmax = 0;
    for (auto& [where, r] : toDraw) {
        if (std::get<0>(where) != m_level && m_pending < visible.size()) continue; // fine tiles decide once any is here
        if (diff) {
            if (r.a->diffWith != lb) {
                float d = 0;
                const auto& va = r.a->tile.values;
                const auto& vb = r.b->tile.values;
                for (size_t i = 0; i < std::min(va.size(), vb.size()); ++i)
                    d = std::max(d, std::abs(va[i] - vb[i]));
                r.a->diffMax = d, r.a->diffWith = lb;
            }
            vmax = std::max(vmax, double(r.a->diffMax));
        } else {
            vmax = std::max(vmax, double(r.a->maxValue));
        }
    }
    if (row) vmax = 1;
    else if (m_style.clipMax > 0) vmax = m_style.clipMax;
    if (!(vmax > 0)) vmax = 1;
    const HeatmapShade shade = diff                                  ? HeatmapShade::Difference
                               : row                                 ? HeatmapShade::Row
                               : m_style.scale == HeatmapScale::Log ? HeatmapShade::Log
                                                                     : HeatmapShade::Linear;
    m_range = {diff ? -vmax : shade == HeatmapShade::Log ? vmax * kLogFloor : 0.0, vmax, diff, m_style.scale,
               m_style.colormap};

    if (!m.renderError.empty()) {
        if (m.reported.insert(m.renderError).second && state.status) state.status(m.renderError);
        m.renderError.clear();
    }
    try {
        m.renderer.prepare(); // a driver that refuses the shader is reported here, not inside the render pass
    } catch (const core::Error& e) {
        if (m.reported.insert(e.what()).second && state.status) state.status(e.what());
        return;
    }
    TilePass pass{lo, cw, ch, m_style.colormap, shade, vmax * kLogFloor, vmax, {}};
    for (const auto& [where, r] : toDraw) {
        const auto [level, tr, tc] = where;
        const double cell = std::ldexp(1.0, level);
        const CamVec p0 = cam.tokenToPixel({double(tc * kTileSide) * cell, double(tr * kTileSide) * cell});
        const CamVec p1 = cam.tokenToPixel({double(tc * kTileSide + r.a->tile.cols) * cell,
                                            double(tr * kTileSide + r.a->tile.rows) * cell});
        pass.quads.push_back({p0.x, p0.y, p1.x, p1.y, tr * kTileSide, tc * kTileSide, &r.a->texture,
                              r.b ? &r.b->texture : nullptr, r.rowMax ? &r.rowMax->texture : nullptr});
    }
    m_hasContent = !toDraw.empty();
    m.evict(m_gpuBudget);

    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImVec2 cellsHi(lo.x + float(cw), lo.y + float(ch));
    dl->PushClipRect(lo, cellsHi, true);
    drawMaskedTiles(dl, cam, T, m_level, lo, cw, ch);
    if (!pass.quads.empty() && m.passes.size() < 0xffff) {
        m.passes.push_back(std::move(pass));
        const uint64_t key = (m.id << 16) | uint64_t(m.passes.size() - 1);
        dl->AddCallback(&Impl::drawTiles, reinterpret_cast<void*>(uintptr_t(key)));
        dl->AddCallback(ImDrawCallback_ResetRenderState, nullptr);
    }
    dl->PopClipRect();
    const CamVec m0 = cam.tokenToPixel({0, 0}), m1 = cam.tokenToPixel({double(T), double(T)});
    m_cellsRect = {std::max(lo.x, lo.x + float(m0.x)), std::max(lo.y, lo.y + float(m0.y)),
                   std::min(lo.x + float(cw), lo.x + float(m1.x)), std::min(lo.y + float(ch), lo.y + float(m1.y))};
    drawHeatmapAxes(dl, cam, lo, cellsHi, run.snapshot->tokens.pieces);
    drawSelectedToken(dl, cam, lo, cellsHi, state.token);
    if (m_boxing) {
        const ImVec2 mouse = ImGui::GetIO().MousePos;
        dl->AddRect(ImVec2(m_pressX, m_pressY), mouse, IM_COL32(255, 255, 255, 220));
    }

    // Hover: the cell under the mouse at the finest level drawn there.
    if (!hovered || m_boxing || ImGui::IsItemActive()) return;
    const ImVec2 mouse = ImGui::GetIO().MousePos;
    if (mouse.x < lo.x || mouse.y < lo.y) return;
    const CamVec t = cam.pixelToToken({mouse.x - lo.x, mouse.y - lo.y});
    if (t.x < 0 || t.y < 0 || t.x >= double(T) || t.y >= double(T)) return;
    for (int level = m_level - 1; level <= maxLevel; ++level) {
        if (level < 0) continue;
        const double cell = std::ldexp(1.0, level);
        const int64_t i = int64_t(t.y / cell), j = int64_t(t.x / cell);
        const Ready r = ready(level, i / kTileSide, j / kTileSide);
        if (!r.a) continue;
        const int64_t li = i - (i / kTileSide) * kTileSide, lj = j - (j / kTileSide) * kTileSide;
        if (li >= r.a->tile.rows || lj >= r.a->tile.cols) break;
        const float va = r.a->tile.values[size_t(li * r.a->tile.cols + lj)];
        const auto& pieces = run.snapshot->tokens.pieces;
        auto piece = [&](int64_t k) { return k < int64_t(pieces.size()) ? printablePiece(pieces[size_t(k)], 24) : ""; };
        ImGui::BeginTooltip();
        if (level == 0) {
            ImGui::Text("query %lld  \"%s\"", (long long)i, piece(i).c_str());
            ImGui::Text("key   %lld  \"%s\"", (long long)j, piece(j).c_str());
        } else {
            const int64_t s = int64_t(cell);
            ImGui::Text("queries %lld-%lld", (long long)(i * s), (long long)std::min(T - 1, i * s + s - 1));
            ImGui::Text("keys    %lld-%lld", (long long)(j * s), (long long)std::min(T - 1, j * s + s - 1));
        }
        if (j > i) {
            ImGui::TextDisabled("masked: every key comes after the query");
        } else if (diff && r.b) {
            const float vb = r.b->tile.values[size_t(li * r.b->tile.cols + lj)];
            ImGui::Text("A %.6g   B %.6g   A-B %+.6g", va, vb, va - vb);
        } else {
            ImGui::Text("%s %.6g", level == 0 ? "p =" : (reduceAt(level) == core::TileReduce::Max ? "max" : "mean"), va);
            if (r.rowMax && li < int64_t(r.rowMax->rowMax.size()))
                ImGui::TextDisabled("row maximum %.6g", r.rowMax->rowMax[size_t(li)]);
        }
        if (level > 0) ImGui::TextDisabled("cell of %lld x %lld tokens", (long long)cell, (long long)cell);
        ImGui::EndTooltip();
        break;
    }
}

bool HeatmapCanvas::describeView(int64_t T, FigureRequest& r) const {
    const HeatmapCamera& cam = *m_camera;
    const CamVec a = cam.pixelToToken({0, 0}), b = cam.pixelToToken({cam.width(), cam.height()});
    auto token = [&](double t, bool up) {
        return std::clamp<int64_t>(int64_t(up ? std::ceil(t) : std::floor(t)), 0, T);
    };
    const int64_t q0 = token(a.y, false), q1 = token(b.y, true), k0 = token(a.x, false), k1 = token(b.x, true);
    if (q0 >= q1 || k0 >= k1) return false;
    r.range.clear();
    if (q0 > 0 || k0 > 0 || q1 < T || k1 < T)
        r.range = std::to_string(q0) + ":" + std::to_string(q1) + "," + std::to_string(k0) + ":" + std::to_string(k1);
    r.colormap = std::string(colormapName(m_style.colormap));
    r.scale = m_style.scale == HeatmapScale::Log ? "log" : m_style.scale == HeatmapScale::Row ? "row" : "linear";
    r.reduce = m_style.cellMax ? "max" : "mean";
    r.clipMax = m_style.clipMax;
    return true;
}

} // namespace attnscope::views

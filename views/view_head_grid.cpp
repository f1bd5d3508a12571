#include "view_head_grid.hpp"

#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace attnscope::views {

namespace {

ImU32 toU32(const Rgb& c, float alpha = 1.0f) {
    return ImGui::ColorConvertFloat4ToU32(ImVec4(c.r, c.g, c.b, alpha));
}

constexpr ImU32 kNotYet = IM_COL32(70, 70, 78, 255);
constexpr ImU32 kNotYetStroke = IM_COL32(110, 110, 120, 255);

} // namespace

ViewHeadGrid::ViewHeadGrid(ExplorerState& state, std::string name) : ViewBase(std::move(name)), m_state(state) {}

GridRect ViewHeadGrid::cellsScreenRect() const {
    if (!m_drawn) return {};
    const GridRect c = m_layout.cells();
    return {c.x0 + m_originX, c.y0 + m_originY, c.x1 + m_originX, c.y1 + m_originY};
}

GridRect ViewHeadGrid::cellScreenRect(int64_t layer, int64_t head) const {
    const GridRect c = m_layout.cell(layer, head);
    return {c.x0 + m_originX, c.y0 + m_originY, c.x1 + m_originX, c.y1 + m_originY};
}

const HeadMetric* ViewHeadGrid::shownMetric() const {
    if (!m_state.run) return nullptr;
    const RunSnapshot& s = *m_state.run.snapshot;
    const size_t cells = size_t(s.layers() * s.heads());
    for (const auto& m : m_state.liveMetrics)
        if (m.name == m_state.metric && m.values.size() == cells) return &m;
    if (const HeadMetric* m = s.metric(m_state.metric)) return m;
    return s.metrics.empty() ? nullptr : &s.metrics.front();
}

void ViewHeadGrid::select(int64_t layer, int64_t head, bool toggle) {
    if (toggle)
        m_state.togglePicked(layer, head);
    else
        m_state.layer = layer, m_state.head = head;
}

void ViewHeadGrid::drawContent() {
    m_drawn = false;
    if (!m_state.run) {
        ImGui::TextDisabled("Open a run to see its heads.");
        return;
    }
    drawControls();
    const HeadMetric* metric = shownMetric();
    if (!metric) {
        ImGui::TextDisabled("This run has no per-head metric.");
        return;
    }
    // A live metric fills in while it is shown: its range is taken afresh every frame.
    const auto [vmin, vmax] = finiteRange(metric->values);
    drawGrid(*metric, vmin, vmax);
    drawLegend(*metric, vmin, vmax);
    drawHeadList(*metric);
}

void ViewHeadGrid::drawControls() {
    const RunSnapshot& s = *m_state.run.snapshot;
    const HeadMetric* shown = shownMetric();
    ImGui::SetNextItemWidth(std::max(160.0f, ImGui::GetContentRegionAvail().x * 0.55f));
    if (ImGui::BeginCombo("metric", shown ? shown->name.c_str() : "(none)")) {
        auto item = [&](const HeadMetric& m, const char* suffix) {
            const std::string label = m.name + suffix;
            if (ImGui::Selectable(label.c_str(), shown == &m)) m_state.metric = m.name;
        };
        for (const auto& m : s.metrics)
            item(m, "");
        for (const auto& m : m_state.liveMetrics)
            item(m, "  (live)");
        ImGui::EndCombo();
    }
    ImGui::SameLine();
    ImGui::SetNextItemWidth(90);
    if (ImGui::BeginCombo("colours", std::string(colormapName(m_colormap)).c_str())) {
        for (size_t i = 0; i < kColormapNames.size(); ++i)
            if (ImGui::Selectable(std::string(kColormapNames[i]).c_str(), size_t(m_colormap) == i))
                m_colormap = Colormap(i);
        ImGui::EndCombo();
    }
}

void ViewHeadGrid::drawGrid(const HeadMetric& metric, double vmin, double vmax) {
    const RunSnapshot& s = *m_state.run.snapshot;
    const int64_t L = s.layers(), H = s.heads();
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    HeadGridOptions o;
    o.headerHeight = ImGui::GetTextLineHeight() + 4;
    o.labelWidth = ImGui::CalcTextSize("L00").x + 8;
    // The grid takes up to 60% of the height; the legend and the list share the rest.
    m_layout = HeadGridLayout(L, H, s.model.nKvHeads, avail.x, std::max(avail.y * 0.6f, 80.0f), o);
    const ImVec2 origin = ImGui::GetCursorScreenPos();
    m_originX = std::floor(origin.x), m_originY = std::floor(origin.y);
    ImGui::InvisibleButton("##cells", ImVec2(std::max(m_layout.contentWidth(), 1.0f), m_layout.contentHeight()));
    const bool hovered = ImGui::IsItemHovered(), clicked = ImGui::IsItemClicked(ImGuiMouseButton_Left);
    m_drawn = true;

    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImU32 dim = ImGui::GetColorU32(ImGuiCol_TextDisabled);
    const float fontH = ImGui::GetTextLineHeight();
    auto at = [&](float x, float y) { return ImVec2(m_originX + x, m_originY + y); };

    // Layer labels where they fit (every k-th when the rows are thinner than a line).
    const int64_t layerStep = std::max<int64_t>(1, int64_t(std::ceil(fontH / (m_layout.cellHeight() + o.gap))));
    for (int64_t l = 0; l < L; l += layerStep) {
        const GridRect r = m_layout.layerLabel(l);
        dl->AddText(at(r.x0 + 2, (r.y0 + r.y1 - fontH) / 2), dim, ("L" + std::to_string(l)).c_str());
    }
    if (m_layout.grouped()) {
        for (int64_t g = 0; g < m_layout.groups(); ++g) {
            const GridRect r = m_layout.group(g);
            const std::string label = "KV" + std::to_string(g);
            if (ImGui::CalcTextSize(label.c_str()).x <= r.width()) dl->AddText(at(r.x0, r.y0 + 1), dim, label.c_str());
            dl->AddLine(at(r.x0, r.y1 - 2), at(r.x1, r.y1 - 2), dim);
        }
    } else {
        const float labelW = ImGui::CalcTextSize("000").x;
        const int64_t headStep = std::max<int64_t>(1, int64_t(std::ceil(labelW / (m_layout.cellWidth() + o.gap))));
        for (int64_t h = 0; h < H; h += headStep) {
            const GridRect r = m_layout.cell(0, h);
            dl->AddText(at(r.x0 + 1, 1), dim, std::to_string(h).c_str());
        }
    }

    for (int64_t l = 0; l < L; ++l)
        for (int64_t h = 0; h < H; ++h) {
            const GridRect r = m_layout.cell(l, h);
            const ImVec2 p0 = at(r.x0, r.y0), p1 = at(r.x1, r.y1);
            const double v = metric.values[size_t(l * H + h)];
            if (std::isnan(v)) {
                dl->AddRectFilled(p0, p1, kNotYet);
                dl->AddLine(ImVec2(p0.x, p1.y - 1), ImVec2(p1.x - 1, p0.y), kNotYetStroke);
            } else {
                dl->AddRectFilled(p0, p1, toU32(colormapRgb(m_colormap, metricFraction(v, vmin, vmax))));
            }
            if (m_state.isPicked(l, h)) {
                const float radius = std::max(1.5f, std::min(r.width(), r.height()) * 0.2f);
                const ImVec2 c((p0.x + p1.x) / 2, (p0.y + p1.y) / 2);
                dl->AddCircleFilled(c, radius + 1, IM_COL32(0, 0, 0, 255));
                dl->AddCircleFilled(c, radius, IM_COL32(255, 255, 255, 255));
            }
        }
    // The selection inside its cell, so that the gaps stay background.
    if (m_state.layer >= 0 && m_state.layer < L && m_state.head >= 0 && m_state.head < H) {
        const GridRect r = m_layout.cell(m_state.layer, m_state.head);
        dl->AddRect(at(r.x0, r.y0), at(r.x1, r.y1), IM_COL32(255, 60, 60, 255), 0, 0, std::min(2.0f, r.width() / 3));
    }

    if (!hovered) return;
    const ImVec2 mouse = ImGui::GetIO().MousePos;
    const auto id = m_layout.hit(mouse.x - m_originX, mouse.y - m_originY);
    if (!id) return;
    drawTooltip(*id, metric);
    if (clicked) select(id->layer, id->head, ImGui::GetIO().KeyCtrl);
}

void ViewHeadGrid::drawLegend(const HeadMetric& metric, double vmin, double vmax) {
    const float width = std::min(320.0f, std::max(ImGui::GetContentRegionAvail().x - 120, 60.0f)), height = 10;
    ImGui::TextUnformatted(formatMetricValue(vmin).c_str());
    ImGui::SameLine();
    const ImVec2 p = ImGui::GetCursorScreenPos();
    const float y = p.y + (ImGui::GetTextLineHeight() - height) / 2;
    ImDrawList* dl = ImGui::GetWindowDrawList();
    constexpr int kSteps = 64;
    for (int i = 0; i < kSteps; ++i) {
        const float x0 = p.x + width * float(i) / kSteps, x1 = p.x + width * float(i + 1) / kSteps;
        dl->AddRectFilled(ImVec2(x0, y), ImVec2(x1 + 0.5f, y + height),
                          toU32(colormapRgb(m_colormap, (float(i) + 0.5f) / kSteps)));
    }
    ImGui::Dummy(ImVec2(width, ImGui::GetTextLineHeight()));
    ImGui::SameLine();
    ImGui::TextUnformatted(formatMetricValue(vmax).c_str());
    const auto missing =
        std::count_if(metric.values.begin(), metric.values.end(), [](double v) { return std::isnan(v); });
    if (missing > 0) {
        ImGui::SameLine();
        const ImVec2 q = ImGui::GetCursorScreenPos();
        dl->AddRectFilled(ImVec2(q.x, y), ImVec2(q.x + height, y + height), kNotYet);
        ImGui::Dummy(ImVec2(height, ImGui::GetTextLineHeight()));
        ImGui::SameLine();
        ImGui::Text("not yet (%lld)", static_cast<long long>(missing));
    }
}

void ViewHeadGrid::drawTooltip(const HeadId& id, const HeadMetric& metric) {
    const RunSnapshot& s = *m_state.run.snapshot;
    ImGui::BeginTooltip();
    if (m_layout.grouped())
        ImGui::Text("L%lld H%lld  (KV head %lld)", static_cast<long long>(id.layer), static_cast<long long>(id.head),
                    static_cast<long long>(id.head / m_layout.groupSize()));
    else
        ImGui::Text("L%lld H%lld", static_cast<long long>(id.layer), static_cast<long long>(id.head));
    ImGui::Text("%s = %s", metric.name.c_str(),
                formatMetricValue(metric.values[size_t(id.layer * s.heads() + id.head)]).c_str());
    const int64_t n = s.thumbSide;
    if (n > 0 && s.thumbnails.size() >= size_t((id.layer * s.heads() + id.head + 1) * n * n)) {
        const float* t = s.thumbnail(id.layer, id.head);
        float largest = 0;
        for (int64_t i = 0; i < n * n; ++i)
            largest = std::max(largest, t[i]);
        const float side = 128, cell = side / float(n);
        const ImVec2 p = ImGui::GetCursorScreenPos();
        ImDrawList* dl = ImGui::GetWindowDrawList();
        // Square root of the share of the largest cell: sinks would otherwise leave the rest of the map black.
        for (int64_t i = 0; i < n; ++i)
            for (int64_t j = 0; j <= i; ++j) {
                const float f = largest > 0 ? std::sqrt(std::max(t[i * n + j], 0.0f) / largest) : 0.0f;
                const ImVec2 a(p.x + float(j) * cell, p.y + float(i) * cell);
                dl->AddRectFilled(a, ImVec2(a.x + cell + 0.5f, a.y + cell + 0.5f), toU32(colormapRgb(m_colormap, f)));
            }
        ImGui::Dummy(ImVec2(side, side));
        ImGui::TextDisabled("attention map, level %d (sqrt scale)", s.thumbLevel);
    }
    ImGui::TextDisabled("click: select   ctrl-click: pick");
    ImGui::EndTooltip();
}

void ViewHeadGrid::drawHeadList(const HeadMetric& metric) {
    const RunSnapshot& s = *m_state.run.snapshot;
    ImGui::SetNextItemWidth(std::min(260.0f, ImGui::GetContentRegionAvail().x));
    ImGui::InputTextWithHint("##filter", "filter: L2  H5  L2H5  >0.5  2.5  nan", m_filter.data(), m_filter.size());
    const ImGuiTableFlags flags = ImGuiTableFlags_Sortable | ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY |
                                  ImGuiTableFlags_BordersOuter | ImGuiTableFlags_SizingStretchSame;
    const float height = std::max(ImGui::GetContentRegionAvail().y, ImGui::GetTextLineHeightWithSpacing() * 4);
    if (!ImGui::BeginTable("##heads", 3, flags, ImVec2(0, height))) return;
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("layer", ImGuiTableColumnFlags_PreferSortAscending);
    ImGui::TableSetupColumn("head", ImGuiTableColumnFlags_PreferSortAscending);
    ImGui::TableSetupColumn(metric.name.c_str(),
                            ImGuiTableColumnFlags_DefaultSort | ImGuiTableColumnFlags_PreferSortDescending);
    ImGui::TableHeadersRow();
    HeadSortKey key = HeadSortKey::Value;
    bool descending = true;
    if (const ImGuiTableSortSpecs* specs = ImGui::TableGetSortSpecs(); specs && specs->SpecsCount > 0) {
        const ImGuiTableColumnSortSpecs& spec = specs->Specs[0];
        key = spec.ColumnIndex == 0   ? HeadSortKey::Layer
              : spec.ColumnIndex == 1 ? HeadSortKey::Head
                                      : HeadSortKey::Value;
        descending = spec.SortDirection == ImGuiSortDirection_Descending;
    }
    std::vector<HeadValue> rows = sortHeads(metric.values, s.layers(), s.heads(), key, descending);
    std::erase_if(rows, [&](const HeadValue& r) { return !headMatches(m_filter.data(), r); });
    ImGuiListClipper clipper;
    clipper.Begin(int(rows.size()));
    while (clipper.Step())
        for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
            const HeadValue& r = rows[size_t(i)];
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            ImGui::PushID(i);
            const bool selected = r.layer == m_state.layer && r.head == m_state.head;
            char label[32];
            std::snprintf(label, sizeof label, "L%lld%s", static_cast<long long>(r.layer),
                          m_state.isPicked(r.layer, r.head) ? " *" : "");
            if (ImGui::Selectable(label, selected, ImGuiSelectableFlags_SpanAllColumns))
                select(r.layer, r.head, ImGui::GetIO().KeyCtrl);
            ImGui::TableNextColumn();
            ImGui::Text("H%lld", static_cast<long long>(r.head));
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(formatMetricValue(r.value).c_str());
            ImGui::PopID();
        }
    ImGui::EndTable();
}

std::optional<FigureRequest> ViewHeadGrid::figureRequest() const {
    const HeadMetric* metric = shownMetric();
    if (!metric) return std::nullopt;
    FigureRequest r;
    r.view = "grid";
    r.run = m_state.run.snapshot->path;
    r.metric = metric->name;
    for (const auto& live : m_state.liveMetrics)
        if (&live == metric) { // computed in this session, not stored in the run: its values go along
            r.live.title = metric->name;
            r.live.layers = m_state.run.snapshot->layers(), r.live.heads = m_state.run.snapshot->heads();
            r.live.grid.assign(metric->values.begin(), metric->values.end());
        }
    r.colormap = std::string(colormapName(m_colormap));
    std::string what = "grid_" + metric->name;
    for (char& c : what)
        if (c == '/') c = '_';
    r.stem = figureStem(r.run, what);
    return r;
}

} // namespace attnscope::views

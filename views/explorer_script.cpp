#include "explorer.hpp"

#include "view_head_grid.hpp"
#include "view_heatmap.hpp"

#include <nlohmann/json.hpp>

namespace attnscope::views {

namespace {

nlohmann::json rectJson(float x0, float y0, float x1, float y1) {
    return {x0, y0, x1 - x0, y1 - y0};
}

} // namespace

void Explorer::scriptViewCommand(const ScriptCommand& c) {
    HeatmapCanvas& canvas = m_heatmap->canvas();
    HeatmapCamera& camera = *canvas.camera();
    if (c.name == "zoom") {
        camera.zoomAbout({camera.width() / 2, camera.height() / 2}, c.number(0));
    } else if (c.name == "pan") {
        camera.pan(c.number(0), c.number(1));
    } else if (c.name == "colormap") {
        const auto map = colormapFromName(c.args[0]);
        if (!map)
            return setStatus("Script line " + std::to_string(c.line) + ": no colormap '" + c.args[0] + "'.", true);
        canvas.style().colormap = *map;
    } else if (c.name == "scale") {
        const std::string& s = c.args[0];
        if (s != "linear" && s != "log" && s != "row")
            return setStatus("Script line " + std::to_string(c.line) + ": no scale '" + s + "'.", true);
        canvas.style().scale = s == "log" ? HeatmapScale::Log : s == "row" ? HeatmapScale::Row : HeatmapScale::Linear;
    } else if (c.name == "click-grid") {
        // A real click through ImGui's input: hover, press, release, on the cell's centre.
        const GridRect r = m_grid->cellScreenRect(int64_t(c.number(0)), int64_t(c.number(1)));
        if (r.width() <= 0) return setStatus("Script line " + std::to_string(c.line) + ": no such grid cell.", true);
        const float x = (r.x0 + r.x1) / 2, y = (r.y0 + r.y1) / 2;
        m_mouse = {{x, y, false}, {x, y, true}, {x, y, false}};
    }
}

std::string Explorer::regionsJson() const {
    nlohmann::json j;
    if (m_state.run) {
        j["layers"] = m_state.run.snapshot->layers();
        j["heads"] = m_state.run.snapshot->heads();
        j["tokens"] = m_state.run.snapshot->tokenCount();
    }
    j["layer"] = m_state.layer;
    j["head"] = m_state.head;
    j["error"] = m_lastError;
    const HeatmapCanvas& canvas = m_heatmap->canvas();
    const ScreenRect cells = canvas.cellsRect();
    j["heatmap_cells"] = rectJson(cells.x0, cells.y0, cells.x1, cells.y1);
    j["heatmap_level"] = canvas.level();
    j["colormap"] = std::string(colormapName(canvas.style().colormap));
    const GridRect grid = m_grid->cellsScreenRect();
    j["grid_cells"] = rectJson(grid.x0, grid.y0, grid.x1, grid.y1);
    j["grid_gap"] = m_grid->layout().options().gap;
    return j.dump(2);
}

// export VIEW PATH [DPI]: the figure a view exports now, as the export dialog would write it. VIEW is a window's
// title ("Compare", whose figure is the pair or the difference on screen) or a figure kind (heatmap, grid, text,
// sentences, ...: the first open window showing one).
void Explorer::scriptExport(const ScriptCommand& c) {
    std::vector<ViewBase*> order;
    for (auto& view : m_views)
        if (view->name() == c.args[0]) order.push_back(view.get());
    for (auto& view : m_views)
        if (view->name() != c.args[0]) order.push_back(view.get());
    for (ViewBase* view : order) {
        const std::optional<FigureRequest> request = view->figureRequest();
        if (!request || (view->name() != c.args[0] && request->view != c.args[0])) continue;
        if (!m_exportDialog.available()) {
            setStatus("This build has no figure export.", true);
            return;
        }
        m_exportDialog.start(*request, c.args[1], c.args.size() > 2 ? c.number(2) : 96.0);
        return;
    }
    setStatus("Script line " + std::to_string(c.line) + ": no view shows a '" + c.args[0] + "' figure now.", true);
}

} // namespace attnscope::views

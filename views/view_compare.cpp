#include "view_compare.hpp"

#include "heatmap_canvas.hpp"
#include "panel_math.hpp"

#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>
#include <cmath>
#include <utility>

namespace attnscope::views {

ViewCompare::ViewCompare(ExplorerState& state) : ViewBase("Compare"), m_state(state) {
    m_a = std::make_unique<HeatmapCanvas>();
    // B keeps a camera of its own (a camera shared by runs of different lengths would refit every frame); the two
    // are synchronised in token coordinates after each frame instead.
    m_b = std::make_unique<HeatmapCanvas>();
    m_diff = std::make_unique<HeatmapCanvas>(m_a->camera());
}

ViewCompare::~ViewCompare() = default;

std::string ViewCompare::differenceProblem() const {
    if (!m_state.run || !m_state.compare) return "Open a second run to compare with.";
    return differenceBlocker(*m_state.run.snapshot, *m_state.compare.snapshot);
}

void ViewCompare::drawRunLine(const char* label, const OpenRun& run) {
    if (!run) {
        ImGui::Text("%s: none", label);
        return;
    }
    const RunSnapshot& s = *run.snapshot;
    ImGui::Text("%s: %s  (%lld tokens, %s, loss %.4f)", label, s.path.filename().string().c_str(),
                (long long)s.tokenCount(), s.model.source.c_str(), meanFinite(s.output.loss));
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", s.path.string().c_str());
}

void ViewCompare::drawContent() {
    drawRunLine("A", m_state.run);
    drawRunLine("B", m_state.compare);
    ImGui::SetNextItemWidth(-230);
    const bool entered = ImGui::InputTextWithHint("##second", "second run (.attn.h5)", &m_secondPath,
                                                  ImGuiInputTextFlags_EnterReturnsTrue);
    ImGui::SameLine();
    if ((ImGui::Button("Open as B") || entered) && !m_secondPath.empty() && m_state.openRun)
        m_state.openRun(m_secondPath, true);
    ImGui::SameLine();
    if (ImGui::Button("Swap A and B") && m_state.compare) std::swap(m_state.run, m_state.compare);

    int m = int(mode);
    ImGui::RadioButton("side by side", &m, int(Mode::SideBySide));
    ImGui::SameLine();
    ImGui::RadioButton("difference B - A", &m, int(Mode::Difference));
    mode = Mode(m);
    if (!m_state.run || !m_state.compare) {
        ImGui::TextUnformatted("Open a second run to compare with (two prompts, two models, calibrated vs original).");
        return;
    }
    const RunSnapshot& a = *m_state.run.snapshot;
    const RunSnapshot& b = *m_state.compare.snapshot;
    const int64_t layer = m_state.layer, head = m_state.head;
    ImGui::Text("head %lld.%lld", (long long)layer, (long long)head);
    if (!m_state.run.tiles || !m_state.compare.tiles) return;

    const ImVec2 avail = ImGui::GetContentRegionAvail();
    if (mode == Mode::Difference) {
        const std::string problem = differenceProblem();
        if (!problem.empty()) {
            ImGui::TextWrapped("No difference: %s Showing them side by side.", problem.c_str());
        } else {
            m_diff->draw(m_state, m_state.compare, layer, head, &m_state.run, avail.x, avail.y);
            return;
        }
    }
    const ImVec2 rest = ImGui::GetContentRegionAvail();
    const float w = (rest.x - ImGui::GetStyle().ItemSpacing.x) / 2.0f;
    const struct {
        const char* title;
        HeatmapCanvas* canvas;
        const OpenRun* run;
        const RunSnapshot* snapshot;
    } panes[] = {{"A", m_a.get(), &m_state.run, &a}, {"B", m_b.get(), &m_state.compare, &b}};
    for (int i = 0; i < 2; ++i) {
        if (i > 0) ImGui::SameLine();
        ImGui::BeginGroup();
        ImGui::PushID(i);
        if (layer < panes[i].snapshot->layers() && head < panes[i].snapshot->heads())
            panes[i].canvas->draw(m_state, *panes[i].run, layer, head, nullptr, w, rest.y);
        else
            ImGui::Text("%s has no head %lld.%lld", panes[i].title, (long long)layer, (long long)head);
        ImGui::PopID();
        ImGui::EndGroup();
    }
    syncCameras();
}

void ViewCompare::syncCameras() {
    HeatmapCamera& a = *m_a->camera();
    HeatmapCamera& b = *m_b->camera();
    if (!(a.state() == m_syncedA))
        b.setState(a.state());
    else if (!(b.state() == m_syncedB))
        a.setState(b.state());
    m_syncedA = a.state();
    m_syncedB = b.state();
}

std::optional<FigureRequest> ViewCompare::figureRequest() const {
    if (!m_state.run || !m_state.compare) return std::nullopt;
    const RunSnapshot& a = *m_state.run.snapshot;
    const RunSnapshot& b = *m_state.compare.snapshot;
    // What drawContent shows: the difference only when asked for and possible, else the two side by side.
    const bool difference = mode == Mode::Difference && differenceProblem().empty();
    const HeatmapCanvas& canvas = difference ? *m_diff : *m_a;
    // m_diff shares A's camera and B follows it in token coordinates: A's camera is what both panes show.
    FigureRequest r;
    if (!canvas.describeView(std::max(a.tokenCount(), b.tokenCount()), r)) return std::nullopt;
    r.layer = m_state.layer, r.head = m_state.head;
    if (difference) {
        r.view = "heatmap";
        r.run = b.path, r.minus = a.path;
    } else {
        r.view = "compare";
        r.run = a.path, r.with = b.path;
    }
    const std::string what = (difference ? "minus_" : "vs_") + figureStem(difference ? a.path : b.path, "");
    r.stem = figureStem(r.run, what.substr(0, what.size() - 1) + "_L" + std::to_string(r.layer) + "H" +
                                   std::to_string(r.head));
    return r;
}

} // namespace attnscope::views

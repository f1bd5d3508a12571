#include "view_text.hpp"

#include <imgui.h>

#include <algorithm>
#include <cmath>

namespace attnscope::views {

namespace {

constexpr float kPadY = 2, kMinTokenWidth = 5;

ImU32 shadeU32(float alpha, ShadeDirection direction) {
    const auto c = shadeColour(alpha, direction);
    return ImGui::ColorConvertFloat4ToU32(ImVec4(c[0], c[1], c[2], c[3]));
}

} // namespace

ViewText::ViewText(ExplorerState& state, std::string name) : ViewBase(std::move(name)), m_state(state) {}

void ViewText::drawContent() {
    if (!m_state.run) {
        ImGui::TextDisabled("Open a run to see its text.");
        m_fetch.request({});
        return;
    }
    const RunSnapshot& s = *m_state.run.snapshot;
    AttentionQuery q;
    q.run = s.path;
    q.token = m_state.token >= 0 && m_state.token < s.tokenCount() ? m_state.token : -1;
    q.direction = m_options.direction;
    if (m_meanOfPicked && !m_state.picked.empty())
        q.heads = m_state.picked;
    else if (m_state.layer >= 0 && m_state.layer < s.layers() && m_state.head >= 0 && m_state.head < s.heads())
        q.heads = {{m_state.layer, m_state.head}};
    m_query = q;
    m_fetch.request(q);
    m_fetch.poll();
    drawControls();
    drawTokens();
}

void ViewText::drawControls() {
    int direction = int(m_options.direction);
    ImGui::RadioButton("attends to", &direction, int(ShadeDirection::FromSelected));
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("shade each earlier token by the selected token's attention to it");
    ImGui::SameLine();
    ImGui::RadioButton("attended by", &direction, int(ShadeDirection::ToSelected));
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("shade each later token by its attention to the selected token");
    m_options.direction = ShadeDirection(direction);
    ImGui::SameLine();
    ImGui::BeginDisabled(m_state.picked.empty());
    const std::string picked = "mean of picked heads (" + std::to_string(m_state.picked.size()) + ")";
    ImGui::Checkbox(picked.c_str(), &m_meanOfPicked);
    ImGui::EndDisabled();

    int scale = int(m_options.scale);
    ImGui::SetNextItemWidth(140);
    ImGui::Combo("scale", &scale, "largest weight\0fixed\0");
    m_options.scale = ShadeScale(scale);
    ImGui::SameLine();
    if (m_options.scale == ShadeScale::Fixed) {
        ImGui::SetNextItemWidth(120);
        ImGui::SliderFloat("max", &m_options.fixedMax, 0.001f, 1.0f, "%.3f", ImGuiSliderFlags_Logarithmic);
    } else {
        ImGui::Checkbox("ignore self", &m_options.excludeSelf);
    }
    ImGui::SameLine();
    ImGui::SetNextItemWidth(100);
    ImGui::SliderFloat("gamma", &m_options.gamma, 0.2f, 1.0f, "%.2f");

    const RunSnapshot& s = *m_state.run.snapshot;
    if (m_query.token < 0) {
        ImGui::TextDisabled("Click a token to see where its attention goes.");
    } else {
        const std::string heads =
            m_query.heads.size() == 1
                ? "L" + std::to_string(m_query.heads[0].first) + " H" + std::to_string(m_query.heads[0].second)
                : "mean of " + std::to_string(m_query.heads.size()) + " heads";
        ImGui::Text("token #%lld \"%s\"  %s%s", static_cast<long long>(m_query.token),
                    tokenText(s.tokens, m_query.token).text.c_str(), heads.c_str(),
                    m_fetch.busy() ? "  (reading...)" : "");
    }
    if (!m_fetch.error().empty()) ImGui::TextColored(ImVec4(1.0f, 0.4f, 0.4f, 1.0f), "%s", m_fetch.error().c_str());
}

void ViewText::layoutTokens(float wrapWidth) {
    const RunSnapshot& s = *m_state.run.snapshot;
    const int64_t T = s.tokenCount();
    if (m_laidOut != m_state.run.snapshot) {
        m_texts.clear();
        for (int64_t i = 0; i < T; ++i)
            m_texts.push_back(tokenText(s.tokens, i));
    }
    if (m_laidOut != m_state.run.snapshot || m_fontSize != ImGui::GetFontSize()) {
        m_widths.clear();
        for (const auto& t : m_texts)
            m_widths.push_back(std::max(kMinTokenWidth, ImGui::CalcTextSize(t.text.c_str()).x));
    }
    std::vector<uint8_t> before, after;
    for (const auto& t : m_texts)
        before.push_back(t.breakBefore), after.push_back(t.breakAfter);
    m_lineStarts = wrapTokens(m_widths, before, after, wrapWidth);
    m_laidOut = m_state.run.snapshot;
    m_wrapWidth = wrapWidth;
    m_fontSize = ImGui::GetFontSize();
}

bool ViewText::tokenScreenRect(int64_t token, std::array<float, 4>& rect) const {
    if (token < m_firstVisible || token - m_firstVisible >= int64_t(m_visibleRects.size())) return false;
    rect = m_visibleRects[size_t(token - m_firstVisible)];
    return true;
}

void ViewText::drawTokens() {
    const RunSnapshot& s = *m_state.run.snapshot;
    const int64_t T = s.tokenCount();
    ImGui::BeginChild("##tokens", ImVec2(0, 0), false);
    const float wrap = std::max(ImGui::GetContentRegionAvail().x, 40.0f);
    if (m_laidOut != m_state.run.snapshot || std::abs(wrap - m_wrapWidth) > 0.5f || m_fontSize != ImGui::GetFontSize())
        layoutTokens(wrap);

    std::vector<TokenShade> shades;
    ShadeDirection direction = m_options.direction;
    if (const AttentionWeights* w = m_fetch.latest(); w && w->query.run == s.path && int64_t(w->weights.size()) == T) {
        ShadeOptions o = m_options;
        o.direction = direction = w->query.direction;
        shades = shadeTokens(w->weights, w->query.token, o);
    }

    const float lineH = ImGui::GetTextLineHeight() + 2 * kPadY;
    const auto lines = int64_t(m_lineStarts.size());
    auto lineOf = [&](int64_t token) {
        return int64_t(std::upper_bound(m_lineStarts.begin(), m_lineStarts.end(), token) - m_lineStarts.begin()) - 1;
    };
    // Follow a selection made elsewhere (heatmap, sentences) when it is off screen.
    if (m_state.token != m_shownToken && m_state.token >= 0 && m_state.token < T) {
        const float y = float(lineOf(m_state.token)) * lineH;
        if (y < ImGui::GetScrollY() || y + lineH > ImGui::GetScrollY() + ImGui::GetWindowHeight())
            ImGui::SetScrollY(std::max(0.0f, y - ImGui::GetWindowHeight() / 3));
    }
    m_shownToken = m_state.token;

    ImGui::PushStyleVar(ImGuiStyleVar_ItemSpacing, ImVec2(0, 0));
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImU32 text = ImGui::GetColorU32(ImGuiCol_Text), dim = ImGui::GetColorU32(ImGuiCol_TextDisabled);
    const ImVec2 mouse = ImGui::GetIO().MousePos;
    const bool windowHovered = ImGui::IsWindowHovered();
    int64_t hovered = -1;
    m_visibleRects.clear();
    m_firstVisible = -1;
    ImGuiListClipper clipper;
    clipper.Begin(int(lines), lineH);
    while (clipper.Step())
        for (int line = clipper.DisplayStart; line < clipper.DisplayEnd; ++line) {
            const int64_t begin = m_lineStarts[size_t(line)];
            const int64_t end = line + 1 < lines ? m_lineStarts[size_t(line) + 1] : T;
            const ImVec2 p = ImGui::GetCursorScreenPos();
            float x = p.x;
            for (int64_t i = begin; i < end; ++i) {
                const ImVec2 a(x, p.y), b(x + m_widths[size_t(i)], p.y + lineH);
                const TokenShade shade = shades.empty() ? TokenShade{} : shades[size_t(i)];
                if (shade.alpha > 0) dl->AddRectFilled(a, b, shadeU32(shade.alpha, direction));
                const bool outOfReach = !shades.empty() && !shade.reachable;
                const std::string& t = m_texts[size_t(i)].text;
                dl->AddText(ImVec2(x, p.y + kPadY), outOfReach ? dim : text, t.c_str(), t.c_str() + t.size());
                if (i == m_state.token) dl->AddRect(a, b, IM_COL32(255, 60, 60, 255), 0, 0, 1.5f);
                if (m_firstVisible < 0) m_firstVisible = i;
                // A clipper may step over separate ranges: only the first run of consecutive tokens is kept.
                if (m_firstVisible + int64_t(m_visibleRects.size()) == i)
                    m_visibleRects.push_back({a.x, a.y, b.x, b.y});
                if (windowHovered && mouse.x >= a.x && mouse.x < b.x && mouse.y >= a.y && mouse.y < b.y) hovered = i;
                x = b.x;
            }
            ImGui::Dummy(ImVec2(std::max(1.0f, x - p.x), lineH));
        }
    ImGui::PopStyleVar();

    if (hovered >= 0) {
        ImGui::BeginTooltip();
        ImGui::Text("#%lld  id %d  \"%s\"", static_cast<long long>(hovered), s.tokens.ids[size_t(hovered)],
                    s.tokens.pieces.size() > size_t(hovered) ? s.tokens.pieces[size_t(hovered)].c_str() : "");
        if (const AttentionWeights* w = m_fetch.latest(); !shades.empty() && w)
            ImGui::Text("weight %.4g", double(w->weights[size_t(hovered)]));
        if (s.tokens.generated.size() > size_t(hovered) && s.tokens.generated[size_t(hovered)])
            ImGui::TextDisabled("generated");
        ImGui::EndTooltip();
        if (ImGui::IsMouseClicked(ImGuiMouseButton_Left)) m_state.token = m_shownToken = hovered;
    }
    ImGui::EndChild();
}

std::optional<FigureRequest> ViewText::figureRequest() const {
    if (!m_state.run || m_query.token < 0 || m_query.heads.size() != 1 ||
        m_query.direction != ShadeDirection::FromSelected)
        return std::nullopt;
    FigureRequest r;
    r.view = "text";
    r.run = m_state.run.snapshot->path;
    r.layer = m_query.heads[0].first, r.head = m_query.heads[0].second;
    r.token = m_query.token;
    if (m_firstVisible >= 0 && !m_visibleRects.empty())
        r.range =
            std::to_string(m_firstVisible) + ":" + std::to_string(m_firstVisible + int64_t(m_visibleRects.size()));
    r.clipMax = m_options.scale == ShadeScale::Fixed ? m_options.fixedMax : 0.0;
    r.stem = figureStem(r.run, "text_L" + std::to_string(r.layer) + "H" + std::to_string(r.head) + "_token" +
                                   std::to_string(r.token));
    return r;
}

} // namespace attnscope::views

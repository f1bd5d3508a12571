#include "view_sentences.hpp"

#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace attnscope::views {

namespace {

ImU32 toU32(const Rgb& c, float alpha = 1.0f) {
    return ImGui::ColorConvertFloat4ToU32(ImVec4(c.r, c.g, c.b, alpha));
}

std::vector<float> floats(const core::AnalysisDataset& d) {
    if (const auto* f = std::get_if<std::vector<float>>(&d.values)) return *f;
    const std::vector<double> v = d.toDoubles();
    return {v.begin(), v.end()};
}

std::string excerpt(const std::string& s, size_t limit = 60) {
    if (s.size() <= limit) return s;
    size_t cut = limit;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80)
        --cut;
    return s.substr(0, cut) + "...";
}

} // namespace

SentenceData sentenceData(const RunSnapshot& snapshot) {
    SentenceData d;
    if (!snapshot.anchors) return d;
    const core::AnalysisResult& a = *snapshot.anchors;
    const auto *text = a.dataset("sentence_text"), *tokens = a.dataset("sentence_tokens"),
               *matrix = a.dataset("matrix");
    const auto *heads = a.dataset("receiver_heads"), *kurtosis = a.dataset("receiver_kurtosis");
    const auto* broadcast = a.dataset("broadcast");
    if (!text || !tokens || !matrix || matrix->shape.size() != 4) return d;
    const auto* texts = std::get_if<std::vector<std::string>>(&text->values);
    if (!texts) return d;
    d.text = *texts;
    d.sentences = int64_t(d.text.size());
    d.layers = matrix->shape[0], d.heads = matrix->shape[1];
    if (matrix->shape[2] != d.sentences || matrix->shape[3] != d.sentences) return d;
    d.matrices = floats(*matrix);
    const std::vector<double> t = tokens->toDoubles();
    if (t.size() != size_t(2 * d.sentences)) return d;
    for (int64_t i = 0; i < d.sentences; ++i)
        d.tokens.push_back({int64_t(t[size_t(2 * i)]), int64_t(t[size_t(2 * i + 1)])});
    if (heads && kurtosis) {
        const std::vector<double> h = heads->toDoubles();
        d.receiverKurtosis = kurtosis->toDoubles();
        for (size_t i = 0; i + 1 < h.size() && i / 2 < d.receiverKurtosis.size(); i += 2)
            d.receivers.emplace_back(int64_t(h[i]), int64_t(h[i + 1]));
        d.receiverKurtosis.resize(d.receivers.size());
    }
    if (broadcast) d.broadcast = broadcast->toDoubles();
    d.broadcast.resize(size_t(d.sentences), NAN);
    if (snapshot.anchorsSuppression)
        if (const auto* m = snapshot.anchorsSuppression->dataset("matrix");
            m && m->count() == d.sentences * d.sentences) {
            d.suppression = floats(*m);
            if (const auto* e = snapshot.anchorsSuppression->dataset("effect")) d.effect = e->toDoubles();
        }
    d.ok = true;
    return d;
}

ViewSentences::ViewSentences(ExplorerState& state, std::string name) : ViewBase(std::move(name)), m_state(state) {}

void ViewSentences::drawMissing() {
    ImGui::TextUnformatted("This run has no thought-anchors analysis (/analysis/anchors).");
    std::string command = "attnscope-cli anchors '" + m_state.run.snapshot->path.string() + "'";
    ImGui::TextDisabled("Compute it with:");
    ImGui::SetNextItemWidth(std::max(120.0f, ImGui::GetContentRegionAvail().x - 60));
    ImGui::InputText("##command", command.data(), command.size() + 1, ImGuiInputTextFlags_ReadOnly);
    ImGui::SameLine();
    if (ImGui::Button("copy")) ImGui::SetClipboardText(command.c_str());
}

std::vector<float> ViewSentences::shownMatrix(bool forLinks) const {
    const int64_t N = m_data.sentences;
    if (m_matrix == Matrix::Suppression && !m_data.suppression.empty()) {
        if (!forLinks) return m_data.suppression;
        // Links weigh the divergence itself: the stored ln(KL + 1e-9) is negative and compresses the strong ones.
        std::vector<float> kl(m_data.suppression.size());
        std::transform(m_data.suppression.begin(), m_data.suppression.end(), kl.begin(),
                       [](float v) { return std::exp(v); });
        return kl;
    }
    if (m_matrix == Matrix::SelectedHead) {
        const std::pair<int64_t, int64_t> head{m_state.layer, m_state.head};
        return meanHeadMatrix(m_data.matrices, m_data.layers, m_data.heads, N, std::span(&head, 1));
    }
    return meanHeadMatrix(m_data.matrices, m_data.layers, m_data.heads, N, m_data.receivers);
}

void ViewSentences::selectSentence(int64_t i) {
    m_selected = i;
    if (i >= 0 && i < m_data.sentences) m_state.token = m_data.tokens[size_t(i)][0];
}

void ViewSentences::drawContent() {
    if (!m_state.run) {
        ImGui::TextDisabled("Open a run to see its sentences.");
        return;
    }
    if (m_for != m_state.run.snapshot) {
        m_for = m_state.run.snapshot;
        m_data = sentenceData(*m_for);
        m_selected = -1;
        m_arcs.clear();
    }
    if (!m_data.ok) {
        drawMissing();
        return;
    }
    if (m_matrix == Matrix::Suppression && m_data.suppression.empty()) m_matrix = Matrix::ReceiverMean;
    const std::string selectedHead =
        "selected head (L" + std::to_string(m_state.layer) + " H" + std::to_string(m_state.head) + ")";
    const char* names[] = {"receiver heads (mean)", selectedHead.c_str(), "suppression ln KL"};
    int matrix = int(m_matrix);
    ImGui::SetNextItemWidth(200);
    ImGui::Combo("matrix", &matrix, names, m_data.suppression.empty() ? 2 : 3);
    m_matrix = Matrix(matrix);
    ImGui::SameLine();
    ImGui::SetNextItemWidth(120);
    ImGui::SliderInt("links", &m_topLinks, 1,
                     int(std::clamp<int64_t>(m_data.sentences * (m_data.sentences - 1) / 2, 1, 100)));
    ImGui::SameLine();
    ImGui::Checkbox("only from the selected sentence", &m_onlySelected);

    const float leftW = std::clamp(ImGui::GetContentRegionAvail().x * 0.38f, 160.0f, 520.0f);
    ImGui::BeginChild("##left", ImVec2(leftW, 0), false);
    drawMatrix(std::min(ImGui::GetContentRegionAvail().x, ImGui::GetContentRegionAvail().y * 0.6f));
    drawReceivers();
    ImGui::EndChild();
    ImGui::SameLine();
    ImGui::BeginChild("##arcs", ImVec2(0, 0), false);
    drawArcs();
    ImGui::EndChild();
}

void ViewSentences::drawMatrix(float side) {
    const int64_t N = m_data.sentences;
    const std::vector<float> m = shownMatrix(false);
    if (m.size() != size_t(N * N) || N == 0) return;
    // The range leaves the diagonal out: a sentence's attention to itself dwarfs its links to earlier ones.
    std::vector<double> lower;
    for (int64_t i = 0; i < N; ++i)
        for (int64_t j = 0; j < i || (N == 1 && j == 0); ++j)
            lower.push_back(double(m[size_t(i * N + j)]));
    const auto [vmin, vmax] = finiteRange(lower);
    const float cell = std::max(2.0f, std::floor(side / float(N)));
    const ImVec2 p = ImGui::GetCursorScreenPos();
    ImGui::InvisibleButton("##matrix", ImVec2(cell * float(N), cell * float(N)));
    const bool hovered = ImGui::IsItemHovered(), clicked = ImGui::IsItemClicked(ImGuiMouseButton_Left);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    for (int64_t i = 0; i < N; ++i)
        for (int64_t j = 0; j <= i; ++j) {
            const float v = m[size_t(i * N + j)];
            const ImVec2 a(p.x + float(j) * cell, p.y + float(i) * cell);
            const ImU32 c = std::isnan(v) ? IM_COL32(70, 70, 78, 255)
                                          : toU32(colormapRgb(m_colormap, metricFraction(v, vmin, vmax)));
            dl->AddRectFilled(a, ImVec2(a.x + cell, a.y + cell), c);
        }
    if (m_selected >= 0 && m_selected < N)
        dl->AddRect(ImVec2(p.x, p.y + float(m_selected) * cell),
                    ImVec2(p.x + float(m_selected + 1) * cell, p.y + float(m_selected + 1) * cell),
                    IM_COL32(255, 60, 60, 255));
    ImGui::Text("%s .. %s off the diagonal (row -> column)", formatMetricValue(vmin).c_str(),
                formatMetricValue(vmax).c_str());
    if (!hovered) return;
    const ImVec2 mouse = ImGui::GetIO().MousePos;
    const auto i = int64_t((mouse.y - p.y) / cell), j = int64_t((mouse.x - p.x) / cell);
    if (i < 0 || i >= N || j < 0 || j >= N) return;
    if (j <= i) {
        ImGui::BeginTooltip();
        ImGui::Text("S%lld -> S%lld: %s", static_cast<long long>(i), static_cast<long long>(j),
                    formatMetricValue(m[size_t(i * N + j)]).c_str());
        ImGui::TextDisabled("S%lld: %s", static_cast<long long>(i), excerpt(m_data.text[size_t(i)]).c_str());
        ImGui::TextDisabled("S%lld: %s", static_cast<long long>(j), excerpt(m_data.text[size_t(j)]).c_str());
        ImGui::EndTooltip();
    }
    if (clicked) selectSentence(i);
}

void ViewSentences::drawReceivers() {
    ImGui::TextUnformatted("Receiver heads (kurtosis of vertical scores)");
    const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY | ImGuiTableFlags_BordersOuter;
    if (!ImGui::BeginTable("##receivers", 3, flags, ImVec2(0, std::max(ImGui::GetContentRegionAvail().y, 60.0f))))
        return;
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("#");
    ImGui::TableSetupColumn("head");
    ImGui::TableSetupColumn("kurtosis");
    ImGui::TableHeadersRow();
    for (size_t r = 0; r < m_data.receivers.size(); ++r) {
        const auto [l, h] = m_data.receivers[r];
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        ImGui::PushID(int(r));
        char label[16];
        std::snprintf(label, sizeof label, "%zu", r + 1);
        if (ImGui::Selectable(label, m_state.layer == l && m_state.head == h, ImGuiSelectableFlags_SpanAllColumns)) {
            m_state.layer = l, m_state.head = h;
            m_matrix = Matrix::SelectedHead;
        }
        ImGui::PopID();
        ImGui::TableNextColumn();
        ImGui::Text("L%lld H%lld", static_cast<long long>(l), static_cast<long long>(h));
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(formatMetricValue(m_data.receiverKurtosis[r]).c_str());
    }
    ImGui::EndTable();
}

void ViewSentences::drawArcs() {
    const int64_t N = m_data.sentences;
    const float width = std::max(ImGui::GetContentRegionAvail().x, 80.0f), pad = 4;
    const float blockMax = std::min(width, 340.0f);
    std::vector<std::pair<float, float>> sizes;
    for (const auto& t : m_data.text) {
        const ImVec2 s = ImGui::CalcTextSize(t.c_str(), nullptr, false, blockMax - 2 * pad);
        sizes.emplace_back(std::min(s.x + 2 * pad, blockMax), s.y + 2 * pad);
    }
    const ArcStyle style;
    const float top = style.maxLift * 0.75f + 4;
    const std::vector<GridRect> blocks = flowBlocks(sizes, width, 10, 30, top);
    const std::vector<float> weights = shownMatrix(true);
    const auto links = strongestLinks(weights, N, m_topLinks, 1, m_onlySelected ? m_selected : -1);
    m_arcs = sentenceArcs(links, blocks, style);

    const ImVec2 o = ImGui::GetCursorScreenPos();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImVec2 mouse = ImGui::GetIO().MousePos;
    const bool windowHovered = ImGui::IsWindowHovered();
    double bmax = 0;
    for (double b : m_data.broadcast)
        if (std::isfinite(b)) bmax = std::max(bmax, b);
    int64_t hovered = -1;
    float bottom = top;
    for (int64_t i = 0; i < N; ++i) {
        const GridRect& r = blocks[size_t(i)];
        const ImVec2 a(o.x + r.x0, o.y + r.y0), b(o.x + r.x1, o.y + r.y1);
        // Tinted by broadcast (the receiver heads' attention to the sentence): the anchors stand out.
        const double f =
            bmax > 0 && std::isfinite(m_data.broadcast[size_t(i)]) ? m_data.broadcast[size_t(i)] / bmax : 0;
        dl->AddRectFilled(a, b, toU32(colormapRgb(Colormap::Viridis, float(f)), 0.25f + 0.35f * float(f)), 3);
        const bool selected = i == m_selected;
        dl->AddRect(a, b, selected ? IM_COL32(255, 60, 60, 255) : ImGui::GetColorU32(ImGuiCol_Border), 3, 0,
                    selected ? 2.0f : 1.0f);
        const std::string& t = m_data.text[size_t(i)];
        dl->AddText(ImGui::GetFont(), ImGui::GetFontSize(), ImVec2(a.x + pad, a.y + pad),
                    ImGui::GetColorU32(ImGuiCol_Text), t.c_str(), t.c_str() + t.size(), blockMax - 2 * pad);
        if (windowHovered && mouse.x >= a.x && mouse.x < b.x && mouse.y >= a.y && mouse.y < b.y) hovered = i;
        bottom = std::max(bottom, r.y1);
    }
    for (const SentenceArc& arc : m_arcs) {
        auto at = [&](ArcPoint p) { return ImVec2(o.x + p.x, o.y + p.y); };
        const bool lit = hovered < 0 || arc.from == hovered || arc.to == hovered;
        const ImU32 c = ImGui::ColorConvertFloat4ToU32(ImVec4(1.0f, 0.55f, 0.1f, arc.alpha * (lit ? 1.0f : 0.25f)));
        dl->AddBezierCubic(at(arc.p0), at(arc.c0), at(arc.c1), at(arc.p1), c, arc.thickness);
        dl->AddCircleFilled(at(arc.p1), arc.thickness * 0.5f + 2, c); // the attended end
    }
    ImGui::Dummy(ImVec2(width, bottom + 4));
    if (hovered < 0) return;
    ImGui::BeginTooltip();
    const auto& tok = m_data.tokens[size_t(hovered)];
    ImGui::Text("S%lld  tokens [%lld, %lld)", static_cast<long long>(hovered), static_cast<long long>(tok[0]),
                static_cast<long long>(tok[1]));
    ImGui::Text("broadcast %s", formatMetricValue(m_data.broadcast[size_t(hovered)]).c_str());
    if (size_t(hovered) < m_data.effect.size())
        ImGui::Text("suppression effect %s", formatMetricValue(m_data.effect[size_t(hovered)]).c_str());
    ImGui::TextDisabled("click: select (arcs from it with \"only from the selected sentence\")");
    ImGui::EndTooltip();
    if (ImGui::IsMouseClicked(ImGuiMouseButton_Left)) selectSentence(hovered);
}

std::optional<FigureRequest> ViewSentences::figureRequest() const {
    if (!m_state.run || !m_data.ok) return std::nullopt;
    FigureRequest r;
    r.view = "sentences";
    r.run = m_state.run.snapshot->path;
    r.metric = m_matrix == Matrix::Suppression ? "suppression" : "attention";
    if (m_matrix == Matrix::SelectedHead) r.layer = m_state.layer, r.head = m_state.head;
    r.colormap = std::string(colormapName(m_colormap));
    r.stem = figureStem(r.run, m_matrix == Matrix::Suppression ? "sentences_suppression"
                               : m_matrix == Matrix::SelectedHead
                                   ? "sentences_L" + std::to_string(r.layer) + "H" + std::to_string(r.head)
                                   : "sentences_receivers");
    return r;
}

} // namespace attnscope::views

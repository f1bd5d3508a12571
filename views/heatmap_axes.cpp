#include "heatmap_axes.hpp"

#include "colormap.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace attnscope::views {

std::string printablePiece(const std::string& piece, size_t maxChars) {
    std::string out;
    size_t chars = 0;
    for (size_t i = 0; i < piece.size() && chars < maxChars; ++i) {
        const unsigned char c = static_cast<unsigned char>(piece[i]);
        if (c == '\n') out += "\\n", ++chars;
        else if (c == '\t') out += "\\t", ++chars;
        else if (c == '\r') out += "\\r", ++chars;
        else if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf, ++chars;
        } else {
            out += char(c);
            // Count code points, not bytes: continuation bytes do not start a character.
            if ((c & 0xC0) != 0x80) ++chars;
        }
    }
    // Never cut a UTF-8 sequence in half: drop a trailing partial one.
    while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) {
        size_t lead = out.size() - 1;
        while (lead > 0 && (static_cast<unsigned char>(out[lead]) & 0xC0) == 0x80)
            --lead;
        const unsigned char l = static_cast<unsigned char>(out[lead]);
        const size_t need = l >= 0xF0 ? 4 : l >= 0xE0 ? 3 : l >= 0xC0 ? 2 : 1;
        if (out.size() - lead >= need) break;
        out.resize(lead);
    }
    return out;
}

double niceStep(double atLeast) {
    if (!(atLeast > 1)) return 1;
    const double p = std::pow(10.0, std::floor(std::log10(atLeast)));
    for (double m : {1.0, 2.0, 5.0, 10.0})
        if (m * p >= atLeast) return m * p;
    return 10 * p;
}

void drawHeatmapAxes(ImDrawList* draw, const HeatmapCamera& camera, ImVec2 lo, ImVec2 hi,
                     const std::vector<std::string>& pieces) {
    const ImU32 text = ImGui::GetColorU32(ImGuiCol_Text), faint = ImGui::GetColorU32(ImGuiCol_TextDisabled);
    const float fontPx = ImGui::GetFontSize();
    const double ppt = camera.pixelsPerToken();
    const int64_t T = camera.tokens();
    const CamVec a = camera.pixelToToken({0, 0}), b = camera.pixelToToken({camera.width(), camera.height()});
    const int64_t q0 = std::max<int64_t>(0, int64_t(std::floor(a.y))), q1 = std::min<int64_t>(T, int64_t(std::ceil(b.y)));
    const int64_t k0 = std::max<int64_t>(0, int64_t(std::floor(a.x))), k1 = std::min<int64_t>(T, int64_t(std::ceil(b.x)));
    const bool piecesFit = ppt >= fontPx + 1 && !pieces.empty();

    // Queries, left of the cells.
    draw->PushClipRect(ImVec2(lo.x - kAxisLeftPx, lo.y), ImVec2(lo.x, hi.y), true);
    const int64_t qStep = piecesFit ? 1 : int64_t(niceStep((fontPx * 2.5) / ppt));
    for (int64_t q = (q0 / qStep) * qStep; q < q1; q += qStep) {
        const float y = lo.y + float(camera.tokenToPixel({0, double(q) + (piecesFit ? 0.5 : 0.0)}).y);
        const std::string label =
            piecesFit && q < int64_t(pieces.size()) ? printablePiece(pieces[size_t(q)], 8) : std::to_string(q);
        const ImVec2 size = ImGui::CalcTextSize(label.c_str());
        draw->AddText(ImVec2(lo.x - 4 - size.x, y - size.y / 2), piecesFit ? text : faint, label.c_str());
        if (!piecesFit) draw->AddLine(ImVec2(lo.x - 3, y), ImVec2(lo.x, y), faint);
    }
    draw->PopClipRect();

    // Keys, above the cells: pieces need the column to be as wide as a few characters.
    const bool keyPiecesFit = piecesFit && ppt >= fontPx * 2;
    draw->PushClipRect(ImVec2(lo.x, lo.y - kAxisTopPx), ImVec2(hi.x, lo.y), true);
    const int64_t kStep = keyPiecesFit ? 1 : int64_t(niceStep((fontPx * 4.0) / ppt));
    for (int64_t k = (k0 / kStep) * kStep; k < k1; k += kStep) {
        const float x = lo.x + float(camera.tokenToPixel({double(k), 0}).x);
        if (keyPiecesFit) {
            const std::string label = k < int64_t(pieces.size()) ? printablePiece(pieces[size_t(k)], 8) : "";
            const float cell = float(ppt);
            draw->PushClipRect(ImVec2(x, lo.y - kAxisTopPx), ImVec2(x + cell - 1, lo.y), true);
            draw->AddText(ImVec2(x + 1, lo.y - kAxisTopPx + 1), text, label.c_str());
            draw->PopClipRect();
        } else {
            const std::string label = std::to_string(k);
            draw->AddText(ImVec2(x + 2, lo.y - kAxisTopPx + 1), faint, label.c_str());
            draw->AddLine(ImVec2(x, lo.y - 4), ImVec2(x, lo.y), faint);
        }
    }
    draw->PopClipRect();
}

void drawSelectedToken(ImDrawList* draw, const HeatmapCamera& camera, ImVec2 lo, ImVec2 hi, int64_t token) {
    if (token < 0 || token >= camera.tokens()) return;
    const ImU32 colour = IM_COL32(255, 255, 255, 200);
    const CamVec p0 = camera.tokenToPixel({double(token), double(token)});
    const CamVec p1 = camera.tokenToPixel({double(token + 1), double(token + 1)});
    const float w = std::max(1.0f, float(p1.x - p0.x));
    const CamVec mapEnd = camera.tokenToPixel({double(camera.tokens()), double(camera.tokens())});
    const CamVec mapStart = camera.tokenToPixel({0, 0});
    draw->PushClipRect(lo, hi, true);
    // The query's row runs from key 0 to the diagonal; the key's column from the diagonal down.
    draw->AddRect(ImVec2(lo.x + float(mapStart.x), lo.y + float(p0.y)), ImVec2(lo.x + float(p0.x) + w, lo.y + float(p0.y) + w),
                  colour);
    draw->AddRect(ImVec2(lo.x + float(p0.x), lo.y + float(p0.y)), ImVec2(lo.x + float(p0.x) + w, lo.y + float(mapEnd.y)),
                  colour);
    draw->PopClipRect();
}

void drawColourBar(ImDrawList* draw, ImVec2 lo, ImVec2 hi, const HeatmapColourRange& r) {
    auto colour = [&](double t) {
        float c[3];
        if (r.difference) {
            divergingRgb(t, c);
        } else {
            const Rgb x = colormapRgb(r.colormap, float(t));
            c[0] = x.r, c[1] = x.g, c[2] = x.b;
        }
        return ImGui::GetColorU32(ImVec4(c[0], c[1], c[2], 1.0f));
    };
    constexpr int kSegments = 64;
    const float h = hi.y - lo.y;
    for (int i = 0; i < kSegments; ++i) {
        const double t0 = 1.0 - double(i) / kSegments, t1 = 1.0 - double(i + 1) / kSegments;
        const float y0 = lo.y + h * float(i) / kSegments, y1 = lo.y + h * float(i + 1) / kSegments;
        draw->AddRectFilledMultiColor(ImVec2(lo.x, y0), ImVec2(hi.x, y1), colour(t0), colour(t0), colour(t1),
                                      colour(t1));
    }
    draw->AddRect(lo, hi, ImGui::GetColorU32(ImGuiCol_Border));
    const ImU32 text = ImGui::GetColorU32(ImGuiCol_Text);
    const bool row = !r.difference && r.scale == HeatmapScale::Row;
    const bool log = !r.difference && r.scale == HeatmapScale::Log && r.vmin > 0;
    for (int i = 0; i <= 4; ++i) {
        const double t = i / 4.0;
        const double v = row ? t : log ? r.vmin * std::pow(r.vmax / r.vmin, t) : r.vmin + t * (r.vmax - r.vmin);
        char label[32];
        std::snprintf(label, sizeof label, "%.3g", v);
        const float y = hi.y - h * float(t);
        draw->AddLine(ImVec2(hi.x, y), ImVec2(hi.x + 3, y), text);
        draw->AddText(ImVec2(hi.x + 5, y - ImGui::GetFontSize() / 2), text, label);
    }
}

} // namespace attnscope::views

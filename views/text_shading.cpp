#include "text_shading.hpp"

#include <algorithm>
#include <cctype>
#include <cassert>
#include <cmath>

namespace attnscope::views {

bool shadeReachable(ShadeDirection direction, int64_t selected, int64_t token) {
    if (selected < 0 || token < 0) return false;
    return direction == ShadeDirection::FromSelected ? token <= selected : token >= selected;
}

std::vector<TokenShade> shadeTokens(std::span<const float> weights, int64_t selected, const ShadeOptions& options) {
    const auto n = int64_t(weights.size());
    std::vector<TokenShade> out(weights.size());
    if (selected < 0 || selected >= n) return out;
    auto weight = [&](int64_t t) { return std::isnan(weights[size_t(t)]) ? 0.0f : weights[size_t(t)]; };
    float scale = options.fixedMax;
    if (options.scale == ShadeScale::Max) {
        scale = 0;
        for (int64_t t = 0; t < n; ++t)
            if (shadeReachable(options.direction, selected, t) && !(options.excludeSelf && t == selected))
                scale = std::max(scale, weight(t));
        // Only the token itself is reachable (the first query's row, the last key's column): scale by itself.
        if (scale <= 0) scale = weight(selected);
    }
    for (int64_t t = 0; t < n; ++t) {
        TokenShade& s = out[size_t(t)];
        s.reachable = shadeReachable(options.direction, selected, t);
        if (!s.reachable || !(scale > 0)) continue;
        const float fraction = std::clamp(weight(t) / scale, 0.0f, 1.0f);
        s.alpha = options.gamma == 1.0f ? fraction : std::pow(fraction, options.gamma);
    }
    return out;
}

std::vector<float> meanOfHeads(std::span<const std::vector<float>> perHead) {
    if (perHead.empty()) return {};
    std::vector<double> sum(perHead.front().size(), 0.0);
    for (const auto& w : perHead) {
        assert(w.size() == sum.size() && "every head's weights cover the same tokens");
        for (size_t i = 0; i < sum.size(); ++i)
            sum[i] += double(w[i]);
    }
    std::vector<float> out(sum.size());
    for (size_t i = 0; i < sum.size(); ++i)
        out[i] = float(sum[i] / double(perHead.size()));
    return out;
}

std::array<float, 4> shadeColour(float alpha, ShadeDirection direction) {
    alpha = std::clamp(std::isnan(alpha) ? 0.0f : alpha, 0.0f, 1.0f);
    // At most 85% opaque so that the token's text stays readable over the strongest shade.
    const float a = 0.85f * alpha;
    if (direction == ShadeDirection::FromSelected) return {0.98f, 0.55f, 0.10f, a};
    return {0.20f, 0.55f, 0.98f, a};
}

TokenText tokenText(const core::RunTokens& tokens, int64_t index) {
    TokenText out;
    std::string raw;
    if (index >= 0 && size_t(index) < tokens.spans.size()) {
        auto [b, e] = tokens.spans[size_t(index)];
        // The gap before a token (word-level tokenizers leave spaces out of spans) belongs to it, so that words keep
        // their spaces and newlines between them break lines.
        if (index > 0) {
            const int64_t previousEnd = tokens.spans[size_t(index - 1)][1];
            const bool blank = previousEnd >= 0 && previousEnd < b && size_t(b) <= tokens.text.size() &&
                               std::all_of(tokens.text.begin() + previousEnd, tokens.text.begin() + b,
                                           [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
            if (blank) b = previousEnd;
        }
        if (b >= 0 && e > b && size_t(e) <= tokens.text.size()) raw = tokens.text.substr(size_t(b), size_t(e - b));
    }
    if (raw.empty() && index >= 0 && size_t(index) < tokens.pieces.size()) raw = tokens.pieces[size_t(index)];
    bool seenVisible = false, pendingNewline = false;
    for (char c : raw) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '\n') {
            if (!seenVisible)
                out.breakBefore = true;
            else
                pendingNewline = true;
            continue;
        }
        if (u < 0x20 && c != '\t') continue;
        if (pendingNewline) out.text += ' ', pendingNewline = false;
        out.text += c == '\t' ? ' ' : c;
        seenVisible = true;
    }
    out.breakAfter = pendingNewline;
    // A token of newlines only: a break after it, so that it ends the line it sits on.
    if (!seenVisible && out.breakBefore) out.breakBefore = false, out.breakAfter = true;
    return out;
}

std::vector<int64_t> wrapTokens(std::span<const float> widths, std::span<const uint8_t> breakBefore,
                                std::span<const uint8_t> breakAfter, float wrapWidth) {
    std::vector<int64_t> starts;
    float x = 0;
    for (size_t i = 0; i < widths.size(); ++i) {
        const bool forced =
            (i < breakBefore.size() && breakBefore[i]) || (i > 0 && i - 1 < breakAfter.size() && breakAfter[i - 1]);
        if (starts.empty() || forced || (x > 0 && x + widths[i] > wrapWidth)) {
            starts.push_back(int64_t(i));
            x = 0;
        }
        x += widths[i];
    }
    return starts;
}

} // namespace attnscope::views

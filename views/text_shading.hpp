#pragma once
// Pure math of the text view: which tokens a selected token's attention can reach (causal), attention weights ->
// per-token shade (normalised by the largest reachable weight or by a fixed maximum), the average of several heads,
// and tokens -> wrapped lines (token index where each line starts). No ImGui.
#include "store/run_types.hpp"

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace attnscope::views {

// FromSelected: the selected query's row, A[selected, t] over keys t <= selected ("what it attends to").
// ToSelected: the selected key's column, A[t, selected] over queries t >= selected ("who attends to it").
enum class ShadeDirection { FromSelected, ToSelected };
enum class ShadeScale { Max, Fixed };

struct ShadeOptions {
    ShadeDirection direction = ShadeDirection::FromSelected;
    ShadeScale scale = ShadeScale::Max;
    float fixedMax = 1.0f; // Fixed: the weight drawn fully opaque
    // Max: leave the selected token's own weight out of the maximum (a token's attention to itself often dwarfs the
    // rest); its own shade is still drawn, clamped at 1.
    bool excludeSelf = true;
    float gamma = 1.0f; // alpha = fraction^gamma; below 1 lifts small weights into view
};

struct TokenShade {
    float alpha = 0;        // [0, 1]
    bool reachable = false; // false: causally out of reach of the selection (drawn without shade)
};

// Whether `token` has a weight for the selection: keys up to the query (FromSelected), queries from the key on.
bool shadeReachable(ShadeDirection direction, int64_t selected, int64_t token);

// One shade per weight; all zero and unreachable when selected is outside [0, weights.size()). NaN weights count 0.
std::vector<TokenShade> shadeTokens(std::span<const float> weights, int64_t selected, const ShadeOptions& options);

// Element-wise mean of equally long weight vectors (the picked heads); empty when none.
std::vector<float> meanOfHeads(std::span<const std::vector<float>> perHead);

// RGBA in [0, 1] of a shade: orange for FromSelected, blue for ToSelected, alpha scaled by `alpha`.
std::array<float, 4> shadeColour(float alpha, ShadeDirection direction);

// A token as the text view draws it: its bytes of the run's text (the piece when its span is empty), a newline before
// the first visible character as breakBefore, one after the last as breakAfter, inner newlines and tabs as spaces,
// other control bytes and '\r' dropped.
struct TokenText {
    std::string text;
    bool breakBefore = false, breakAfter = false;
};
TokenText tokenText(const core::RunTokens& tokens, int64_t index);

// Greedy wrapping: the token index where each line starts (the first is 0; empty when there are no tokens). A token
// starts a new line when it would pass wrapWidth, when it has breakBefore, or when the previous had breakAfter; a token
// wider than wrapWidth sits alone on its line.
std::vector<int64_t> wrapTokens(std::span<const float> widths, std::span<const uint8_t> breakBefore,
                                std::span<const uint8_t> breakAfter, float wrapWidth);

} // namespace attnscope::views

#pragma once
// The next-token distribution before and after an edit as an ImGui table: token, then each side's probability as a
// bar ("-" where the token is not in that side's top-k). UI thread only.
#include "panel_math.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace attnscope::views {

// label(id) names a token (e.g. "'library'").
void drawDistributionTable(const std::vector<DistributionRow>& rows, const std::function<std::string(int32_t)>& label);

} // namespace attnscope::views

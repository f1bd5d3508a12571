#pragma once
// The colormaps live in views/ as plain C++ shared with the GL views; attnscope_figure does not link attnscope_views
// (ImGui, GL), so it reaches the header by path.
#include "../colormap.hpp"

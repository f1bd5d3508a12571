#pragma once
// The GUI's "Export figure...": a view's FigureRequest rendered by the writers of `attnscope-cli figure` (Qt), so a
// figure exported from the window equals the CLI's for the same options, byte for byte.
#include "figure_request.hpp"

namespace attnscope::app {

// Creates Qt's offscreen application on the calling (main) thread; the exporter then paints on any thread.
views::FigureExporter makeFigureExporter();

} // namespace attnscope::app

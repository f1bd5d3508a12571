#pragma once
// Renders a painting callback to PNG, SVG or PDF (chosen by extension), written atomically. Headless-safe.
#include <QtCore/QSizeF>

#include <filesystem>
#include <functional>

class QPainter;

namespace attnscope::figure {

struct FigureOptions {
    QSizeF sizePx{800, 600}; // logical size in pixels (font sizes are in pixels too)
    double dpi = 96.0;       // PNG resolution scale: dpi / 96 device pixels per logical pixel
};

// Creates the process's QGuiApplication on first use when there is none (platform "offscreen" unless
// QT_QPA_PLATFORM says otherwise), so that fonts and painting work headless. Call from the thread that paints.
void ensureFigureApplication();

// Throws core::Error naming the file when the extension is unknown or the file cannot be written.
void writeFigure(const std::filesystem::path& file, const FigureOptions& options,
                 const std::function<void(QPainter&)>& paint);

} // namespace attnscope::figure

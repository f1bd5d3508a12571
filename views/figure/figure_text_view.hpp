#pragma once
// The text view of one head as a paper figure (BertViz style): the run's tokens wrapped into lines, each shaded by the
// colormap by the attention a chosen query gives it (its row; keys after the query are out of reach and unshaded) or
// by a per-token statistic of the head, with a colour bar. Shading and wrapping are the screen's (views/text_shading).
// Thread: the caller's (RunReader is one per thread); painting needs a QGuiApplication (ensureFigureApplication()).
#include "colormap_path.hpp"

#include <QtCore/QRectF>
#include <QtCore/QSizeF>

#include <cstdint>
#include <string>
#include <vector>

class QPainter;

namespace attnscope::core {
class RunReader;
}

namespace attnscope::figure {

struct TextFigureSpec {
    int64_t layer = 0, head = 0;
    int64_t query = -1;      // the attending token; -1: the last token
    std::string metric;      // empty: attention from `query`; else a statistic of the head per query token: "entropy",
                             // "first_mass", "received" or "alpha" (the run's /stats)
    int64_t t0 = 0, t1 = -1; // half-open token window shown; t1 -1: the 512 tokens up to the query (all when fewer)
    views::Colormap colormap = views::Colormap::Viridis;
    double clipMax = 0.0;   // attention: the weight drawn at the top colour (0: the largest weight but the query's own,
                            // as on screen); statistic: top of the colour bar (0: the largest value)
    double widthPx = 720.0; // wrap width of the text, logical pixels
};

struct TextFigureData {
    TextFigureSpec spec; // query and window resolved
    std::string runName;
    std::vector<std::string> texts; // per token of the window, as drawn (spaces kept, newlines as breaks)
    std::vector<uint8_t> breakBefore, breakAfter;
    std::vector<float> values;    // per token: attention weight or statistic
    std::vector<float> positions; // per token: colour-bar position in [0, 1]
    std::vector<uint8_t> shaded;  // 0: drawn without shade (out of the query's reach)
    double vmin = 0, vmax = 1;    // colour-bar range
    bool clipped = false;         // some shaded value is above vmax
    std::string valueName;        // colour-bar caption
};

// Throws core::ArgumentError (one sentence naming the run) for a layer, head, query, window or statistic outside it.
TextFigureData loadTextFigure(core::RunReader& run, const TextFigureSpec& spec);

QSizeF textFigureSize(const TextFigureData& data);
// Where token i of the window (0 = spec.t0) is drawn: its shaded box, in logical pixels.
QRectF textFigureTokenRect(const TextFigureData& data, int64_t i);
void paintTextFigure(QPainter& painter, const TextFigureData& data);

} // namespace attnscope::figure

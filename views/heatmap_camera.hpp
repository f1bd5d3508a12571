#pragma once
// Heatmap view math, no ImGui or GL: viewport pixels <-> token coordinates (x = key column, y = query row, row 0 on
// top, y grows down), pan/zoom/box zoom with clamping, the pyramid level and visible tiles, and the colour scales.
// Pixels are relative to the viewport's top-left corner; a token coordinate t covers [t, t+1). UI thread only.
#include <cstdint>
#include <utility>
#include <vector>

namespace attnscope::views {

struct CamVec {
    double x = 0, y = 0;
};

// Tiles [row0, row1) x [col0, col1) of `level`, in tile indices (tile = tileSide x tileSide cells of that level).
struct TileRange {
    int level = 0;
    int64_t tileSide = 256;
    int64_t row0 = 0, row1 = 0, col0 = 0, col1 = 0;
    bool empty() const { return row0 >= row1 || col0 >= col1; }
};

class HeatmapCamera {
public:
    // The view: centre in tokens and tokens per pixel (the same on both axes, so cells stay square).
    struct State {
        double cx = 0, cy = 0, tokensPerPixel = 1;
        bool operator==(const State&) const = default;
    };

    static constexpr double kMaxCellPx = 64.0;  // the deepest zoom: one token 64 px wide
    static constexpr double kMinFitFraction = 0.25; // the widest zoom: the map fills a quarter of the view
    static constexpr double kKeepPx = 48.0;      // at least this much of the map stays in view

    // A new camera fits the map at the first setViewport/setTokens.
    void setViewport(double widthPx, double heightPx);
    // A different token count fits the map again; the same one keeps the view.
    void setTokens(int64_t tokens);
    double width() const { return m_w; }
    double height() const { return m_h; }
    int64_t tokens() const { return m_tokens; }

    CamVec pixelToToken(CamVec px) const;
    CamVec tokenToPixel(CamVec token) const;
    double tokensPerPixel() const { return m_s.tokensPerPixel; }
    double pixelsPerToken() const { return 1.0 / m_s.tokensPerPixel; }

    void pan(double dxPx, double dyPx); // drags the map by (dx, dy) pixels
    // Zooms by factor (> 1 zooms in) keeping the token under `px` under it (unless a limit or the clamp moves it).
    void zoomAbout(CamVec px, double factor);
    // Fits the box between two pixel corners into the view (boxes under 4 px are ignored).
    void boxZoom(CamVec a, CamVec b);
    // Keyboard pan: steps of a tenth of the view.
    void step(int dx, int dy);
    void centreOn(CamVec token);
    void fit(); // the whole map, centred
    bool fitted() const { return m_fitted; }

    State state() const { return m_s; }
    void setState(const State& s);

    // Level whose cells (2^level tokens) are at least one pixel: ceil(log2(tokens per pixel)), within [0, maxLevel].
    int level(int maxLevel) const;
    // The level whose whole map is one tile (n <= tileSide), the fallback drawn under everything.
    static int overviewLevel(int64_t tokens, int64_t tileSide);
    // Levels 0..maxLevel that make sense for T tokens: up to the level where the map is one cell.
    static int maxLevelFor(int64_t tokens);
    // Tiles of `level` that intersect the view, clipped to the map.
    TileRange visibleTiles(int level, int64_t tileSide) const;

private:
    void clamp();
    double fitTokensPerPixel() const;

    double m_w = 1, m_h = 1;
    int64_t m_tokens = 0;
    State m_s;
    bool m_fitted = false, m_hasViewport = false;
};

// Tiles of a range that hold at least one cell on or below the causal diagonal, ordered from the one nearest the
// view's centre (the most important first).
std::vector<std::pair<int64_t, int64_t>> orderedTiles(const TileRange& range, const HeatmapCamera& camera);

// Colour scales: value -> position t in [0, 1] on the colormap.
enum class HeatmapScale { Linear, Log, Row };
inline constexpr double kLogFloor = 1e-3; // log scale spans three decades below vmax, as the figures do

double scaleLinear(double v, double vmax);
double scaleLog(double v, double vmax, double floor = kLogFloor); // log10(v / vmin) / log10(vmax / vmin)
double scaleRow(double v, double rowMax);                           // v / rowMax, 0 where the row is all zero
// Difference A - B on a symmetric range: 0.5 at zero, 0 at -range, 1 at +range.
double scaleDiff(double d, double range);
double scaleValue(HeatmapScale scale, double v, double vmax, double rowMax);
// Diverging map for differences (blue, light grey at zero, red), linear RGB in [0, 1].
void divergingRgb(double t, float rgb[3]);

} // namespace attnscope::views

#pragma once
// "Export figure…": what a view shows, as plain data for the figure renderer (views/figure, Qt), which the app supplies
// as a FigureExporter, so that views never see Qt. Fields follow `attnscope-cli figure`'s options.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace attnscope::views {

struct FigureRequest {
    std::string view; // heatmap, compare, grid, text or sentences (the CLI's --view)
    std::filesystem::path run;
    std::filesystem::path minus; // heatmap: draw run - minus (the Compare view's B - A: run = B, minus = A)
    std::filesystem::path with;  // compare: the second run (B) beside run (A)
    int64_t layer = -1, head = -1, token = -1;
    std::string range;  // heatmap: "q0:q1,k0:k1", text: "t0:t1" (half-open tokens); empty: everything
    std::string metric; // grid: the metric; text: a statistic, empty for attention; sentences: the matrix
    std::string colormap = "viridis", scale = "linear", reduce = "mean";
    double clipMax = 0;
    std::string stem; // suggested file name, without folder or extension

    // What this session computed and the run file does not hold (a sweep still filling the grid, a panel's result):
    // drawn as given. view "grid": `grid`; view "ablation" or "calibration": `bars` and `facts`.
    struct Bar {
        std::string name;
        double before = 0, after = 0;
    };
    struct Inline {
        std::string title;
        int64_t layers = 0, heads = 0;
        std::vector<double> grid; // [layers][heads]
        std::vector<Bar> bars;
        std::vector<std::pair<std::string, std::string>> facts;
    } live;
};

// "<run name without .attn.h5>_<what>": the name the export dialog suggests.
inline std::string figureStem(const std::filesystem::path& run, const std::string& what) {
    std::string name = run.filename().string();
    for (const char* ext : {".attn.h5", ".h5"})
        if (name.size() > std::string(ext).size() && name.ends_with(ext)) {
            name.resize(name.size() - std::string(ext).size());
            break;
        }
    return name + "_" + what;
}

// Renders `request` to `out` (.png, .svg or .pdf; PNG at `dpi`); throws core::Error (one sentence naming the file).
// Called on a background thread.
using FigureExporter = std::function<void(const FigureRequest& request, const std::filesystem::path& out, double dpi)>;

} // namespace attnscope::views

#pragma once
// What every view shares: the open runs (immutable snapshots plus their tile loaders), the selected head and token,
// the heads picked in the grid, and the requests views make of the app (open a file). UI thread only.
#include "run_snapshot.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace attnscope::views {

class TileLoader;

// One open run file: what was read once (snapshot) and the thread that serves its tiles.
struct OpenRun {
    std::shared_ptr<const RunSnapshot> snapshot;
    std::shared_ptr<TileLoader> tiles;
    explicit operator bool() const { return snapshot != nullptr; }
};

struct ExplorerState {
    OpenRun run;     // the run every view shows; empty until one is open
    OpenRun compare; // a second run for the compare view (two prompts, two models, edited vs original)

    int64_t layer = 0, head = 0; // the selected head
    int64_t token = -1;          // the selected token (clicked row or column, or text); -1: none
    // Heads picked in the grid (ctrl-click): averaged by the text view, ablated or calibrated by the panels.
    std::vector<std::pair<int64_t, int64_t>> picked;
    std::string metric; // the per-head metric the grid colours by ("ANALYSIS/DATASET" or "stats/NAME")
    // Metrics made in this session (e.g. an ablation sweep filling in, NaN for heads not done yet); the grid offers
    // them beside the run's own, and shows them as they change.
    std::vector<HeadMetric> liveMetrics;
    std::filesystem::path modelPath; // the model the capture, calibration and ablation panels run

    // Set by the app: opens a run file (asynchronously) as `run`, or as `compare` when asCompare.
    std::function<void(const std::filesystem::path&, bool asCompare)> openRun;
    // Set by the app: a one-line message for the status bar (errors name the file and the problem).
    std::function<void(const std::string&)> status;

    bool isPicked(int64_t l, int64_t h) const {
        for (const auto& p : picked)
            if (p.first == l && p.second == h) return true;
        return false;
    }
    void togglePicked(int64_t l, int64_t h) {
        for (auto it = picked.begin(); it != picked.end(); ++it)
            if (it->first == l && it->second == h) {
                picked.erase(it);
                return;
            }
        picked.emplace_back(l, h);
    }
};

} // namespace attnscope::views

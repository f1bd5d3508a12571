#include "run_snapshot.hpp"

#include "store/head_metrics.hpp"

#include <algorithm>
#include <cmath>

namespace attnscope::views {

const HeadMetric* RunSnapshot::metric(const std::string& name) const {
    for (const auto& m : metrics)
        if (m.name == name) return &m;
    return nullptr;
}

HeadMetric makeHeadMetric(std::string name, std::vector<double> values) {
    HeadMetric m{std::move(name), std::move(values)};
    bool any = false;
    for (double v : m.values)
        if (std::isfinite(v)) {
            m.vmin = any ? std::min(m.vmin, v) : v;
            m.vmax = any ? std::max(m.vmax, v) : v;
            any = true;
        }
    if (!any || m.vmax <= m.vmin) m.vmax = m.vmin + 1.0;
    return m;
}

RunSnapshot loadRunSnapshot(const std::filesystem::path& path, int64_t maxThumbSide) {
    core::RunReader run(path, 64ull << 20);
    RunSnapshot s;
    s.path = path;
    s.model = run.model();
    s.tokens = run.tokens();
    s.summary = run.summary();
    s.output = run.output();
    for (const auto& name : core::headMetricNames(run)) {
        s.metrics.push_back(makeHeadMetric(name, core::headMetricValues(run, name)));
    }
    for (const auto& name : s.summary.analyses) {
        if (name == "anchors") s.anchors = run.analysis(name);
        if (name == "anchors_suppression") s.anchorsSuppression = run.analysis(name);
    }
    // The coarsest level whose side fits: the whole map in one tile per head.
    const int64_t T = s.tokenCount();
    int level = 0;
    while (core::pyramidSize(T, level) > maxThumbSide)
        ++level;
    s.thumbLevel = level;
    s.thumbSide = core::pyramidSize(T, level);
    s.thumbnails.reserve(size_t(s.layers() * s.heads() * s.thumbSide * s.thumbSide));
    for (int64_t l = 0; l < s.layers(); ++l)
        for (int64_t h = 0; h < s.heads(); ++h) {
            const core::Tile t = run.tile(l, h, level, 0, 0, s.thumbSide);
            s.thumbnails.insert(s.thumbnails.end(), t.values.begin(), t.values.end());
        }
    return s;
}

} // namespace attnscope::views

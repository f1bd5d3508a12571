#include "store/head_metrics.hpp"

#include "errors.hpp"
#include "store/run_reader.hpp"

#include <algorithm>
#include <limits>

namespace attnscope::core {

namespace {

constexpr const char* kStats[] = {"entropy", "first_mass"};

bool isLayerHead(const AnalysisDataset& ds, const RunModelInfo& m) {
    return ds.shape.size() == 2 && ds.shape[0] == m.nLayers && ds.shape[1] == m.nHeads &&
           ds.dtypeName() != std::string("string");
}

std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names)
        out += (out.empty() ? "" : ", ") + n;
    return out.empty() ? "none" : out;
}

} // namespace

std::vector<std::string> headMetricNames(RunReader& run) {
    std::vector<std::string> out;
    const auto summary = run.summary();
    for (const auto& name : summary.analyses) {
        const AnalysisResult result = run.analysis(name);
        for (const auto& ds : result.datasets)
            if (isLayerHead(ds, run.model())) out.push_back(name + "/" + ds.name);
    }
    if (summary.stats)
        for (const char* s : kStats)
            out.push_back(std::string("stats/") + s);
    return out;
}

std::string resolveHeadMetric(RunReader& run, const std::string& metric) {
    const std::vector<std::string> metrics = headMetricNames(run);
    // Exact, then "*/metric" (a dataset or a statistic), then "metric/*" (an analysis).
    for (const auto& m : metrics)
        if (m == metric) return m;
    for (const auto& m : metrics)
        if (m.size() > metric.size() && m.compare(m.size() - metric.size(), metric.size(), metric) == 0 &&
            m[m.size() - metric.size() - 1] == '/')
            return m;
    for (const auto& m : metrics)
        if (m.rfind(metric + "/", 0) == 0) return m;
    throw ArgumentError("Run file '" + run.path().string() + "' has no per-head metric '" + metric +
                        "'; it has: " + joined(metrics) + ".");
}

std::vector<double> headMetricValues(RunReader& run, const std::string& resolved) {
    const auto slash = resolved.find('/');
    const std::string group = resolved.substr(0, slash), name = resolved.substr(slash + 1);
    const int64_t layers = run.model().nLayers, heads = run.model().nHeads;
    std::vector<double> values;
    if (group == "stats") {
        for (int64_t l = 0; l < layers; ++l) {
            const std::vector<float> stat = run.layerStat(name, l); // [H][T]
            const int64_t T = int64_t(stat.size()) / std::max<int64_t>(heads, 1);
            for (int64_t h = 0; h < heads; ++h) {
                double sum = 0;
                for (int64_t t = 0; t < T; ++t)
                    sum += stat[size_t(h * T + t)];
                values.push_back(T > 0 ? sum / double(T) : std::numeric_limits<double>::quiet_NaN());
            }
        }
        return values;
    }
    const AnalysisResult result = run.analysis(group);
    const AnalysisDataset* ds = result.dataset(name);
    if (!ds || !isLayerHead(*ds, run.model()))
        throw ArgumentError("Run file '" + run.path().string() + "' has no per-head metric '" + resolved + "'.");
    return ds->toDoubles();
}

} // namespace attnscope::core

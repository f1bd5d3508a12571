#pragma once
// Per-head metrics of a run, values [layer][head] (NaN where none): every numeric [L,H] dataset under /analysis
// ("ANALYSIS/DATASET") and the mean over queries of the per-query statistics ("stats/entropy", "stats/first_mass").
// Thread: the reader's.
#include <string>
#include <vector>

namespace attnscope::core {

class RunReader;

// Every metric the run holds, analyses first (in the file's order), then the statistics.
std::vector<std::string> headMetricNames(RunReader& run);
// The full name of `metric`: itself, a DATASET name (the first analysis holding it), an ANALYSIS name (its first
// [L,H] dataset) or a statistic ("entropy"). Throws ArgumentError naming the run and the metrics it has.
std::string resolveHeadMetric(RunReader& run, const std::string& metric);
// Values of a full name from headMetricNames(), [layer][head].
std::vector<double> headMetricValues(RunReader& run, const std::string& resolved);

} // namespace attnscope::core

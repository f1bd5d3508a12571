#pragma once
// Pure helpers of the model panels (capture, calibration, ablation, compare): next-token distributions before/after,
// loss means, debouncing, sweep bookkeeping, default file names. No ImGui, no torch; any thread.
#include "intervene/attention_edit.hpp"
#include "intervene/calibration_experiment.hpp"
#include "run_snapshot.hpp"

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace attnscope::views {

struct TokenProb {
    int32_t id = -1;
    float prob = 0; // probability in [0, 1]
};

// The k most likely next tokens of one row of logits (softmax in double), most likely first, ties by lower id.
std::vector<TokenProb> topKFromLogits(const float* logits, int64_t vocab, int64_t k);
// The stored top-k of /output at `position` (RunOutput::topkIds/topkProbs are [T][kTopK]); empty when the run has no
// output or the position is outside it.
std::vector<TokenProb> storedTopK(const core::RunOutput& output, int64_t position);

// One token of a before/after comparison; a probability is NaN where the token is outside that side's top-k.
struct DistributionRow {
    int32_t id = -1;
    float before = 0, after = 0;
};
// Union of both top-k lists, ordered by the larger of the two probabilities (descending), ties by id.
std::vector<DistributionRow> compareDistributions(const std::vector<TokenProb>& before,
                                                  const std::vector<TokenProb>& after);

// Mean of the finite values (the run's per-position loss has NaN at the last position); NaN when none is finite.
double meanFinite(const std::vector<float>& values);
// The position whose next-token distribution a panel compares: the selected token when it is inside the run, else
// the last position; -1 for an empty run.
int64_t comparePosition(int64_t tokenCount, int64_t selectedToken);

// Fires once, `delay` seconds after the last change (a slider being dragged fires once it rests). Times in seconds
// from any monotonic clock (ImGui::GetTime() in the panels).
class Debouncer {
public:
    explicit Debouncer(double delay = 0.3) : m_delay(delay) {}
    void touch(double now) {
        m_pending = true;
        m_last = now;
    }
    bool pending() const { return m_pending; }
    // True exactly once per burst of touches, at the first call at least `delay` after the last touch.
    bool due(double now) {
        if (!m_pending || now - m_last < m_delay) return false;
        m_pending = false;
        return true;
    }

private:
    double m_delay;
    double m_last = 0;
    bool m_pending = false;
};

// A per-head metric that fills in as a sweep's results arrive: NaN for heads not done yet; vmin/vmax over the
// finite values (vmax = vmin + 1 while fewer than two differ, as loadRunSnapshot does).
class SweepTable {
public:
    SweepTable() = default;
    SweepTable(int64_t layers, int64_t heads);
    void set(int64_t layer, int64_t head, double value);
    int64_t done() const { return m_done; }
    int64_t total() const { return m_layers * m_heads; }
    HeadMetric metric(const std::string& name) const;

private:
    int64_t m_layers = 0, m_heads = 0, m_done = 0;
    std::vector<double> m_values;
    std::vector<bool> m_set;
};

// Replaces the metric of the same name in `metrics`, or appends it.
void upsertMetric(std::vector<HeadMetric>& metrics, HeadMetric metric);
// Removes the metric of that name (no-op when absent).
void eraseMetric(std::vector<HeadMetric>& metrics, const std::string& name);

// Picked (layer, head) pairs as single-head references.
std::vector<core::HeadRef> headRefs(const std::vector<std::pair<int64_t, int64_t>>& picked);

// Where captures go: $XDG_DATA_HOME/attnscope/runs, else $HOME/.local/share/attnscope/runs, else ./attnscope-runs.
// Arguments are the variables' values (null or empty when unset).
std::filesystem::path runsFolder(const char* xdgDataHome, const char* home);
// "YYYYMMDD-HHMMSS.attn.h5" of a UTC time.
std::string timestampRunName(std::time_t t);

// A task item for core's head screening built from a run's own text: the prompt is the text before the token at
// the middle, the answer the rest (teacher-forced: screening keeps heads that lower its loss). Needs >= 2 tokens
// with spans; throws core::ArgumentError otherwise.
core::TaskItem screeningItem(const core::RunTokens& tokens);

// Why two runs cannot be shown as a difference, or empty when they can (same layers, heads and token count).
std::string differenceBlocker(const RunSnapshot& a, const RunSnapshot& b);

} // namespace attnscope::views

#include "panel_math.hpp"

#include "errors.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace attnscope::views {

namespace {
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

bool moreLikely(const TokenProb& a, const TokenProb& b) {
    return a.prob > b.prob || (a.prob == b.prob && a.id < b.id);
}
} // namespace

std::vector<TokenProb> topKFromLogits(const float* logits, int64_t vocab, int64_t k) {
    if (vocab <= 0 || k <= 0) return {};
    double maxLogit = -std::numeric_limits<double>::infinity();
    for (int64_t v = 0; v < vocab; ++v)
        maxLogit = std::max(maxLogit, double(logits[v]));
    double sum = 0;
    for (int64_t v = 0; v < vocab; ++v)
        sum += std::exp(double(logits[v]) - maxLogit);
    std::vector<TokenProb> all(static_cast<size_t>(vocab));
    for (int64_t v = 0; v < vocab; ++v)
        all[size_t(v)] = {int32_t(v), float(std::exp(double(logits[v]) - maxLogit) / sum)};
    const auto n = static_cast<size_t>(std::min(k, vocab));
    std::partial_sort(all.begin(), all.begin() + long(n), all.end(), moreLikely);
    all.resize(n);
    return all;
}

std::vector<TokenProb> storedTopK(const core::RunOutput& output, int64_t position) {
    const auto k = static_cast<size_t>(core::kTopK);
    if (position < 0 || (size_t(position) + 1) * k > output.topkIds.size() ||
        output.topkProbs.size() != output.topkIds.size())
        return {};
    std::vector<TokenProb> out;
    for (size_t i = 0; i < k; ++i) {
        const size_t at = size_t(position) * k + i;
        if (output.topkIds[at] < 0) continue; // a vocabulary smaller than k pads with -1
        out.push_back({output.topkIds[at], output.topkProbs[at]});
    }
    return out;
}

std::vector<DistributionRow> compareDistributions(const std::vector<TokenProb>& before,
                                                  const std::vector<TokenProb>& after) {
    std::vector<DistributionRow> rows;
    auto row = [&](int32_t id) -> DistributionRow& {
        for (auto& r : rows)
            if (r.id == id) return r;
        rows.push_back({id, kNaN, kNaN});
        return rows.back();
    };
    for (const auto& t : before)
        row(t.id).before = t.prob;
    for (const auto& t : after)
        row(t.id).after = t.prob;
    auto larger = [](const DistributionRow& r) {
        const float a = std::isnan(r.before) ? -1.0f : r.before, b = std::isnan(r.after) ? -1.0f : r.after;
        return std::max(a, b);
    };
    std::sort(rows.begin(), rows.end(), [&](const DistributionRow& a, const DistributionRow& b) {
        const float la = larger(a), lb = larger(b);
        return la > lb || (la == lb && a.id < b.id);
    });
    return rows;
}

double meanFinite(const std::vector<float>& values) {
    double sum = 0;
    int64_t n = 0;
    for (float v : values)
        if (std::isfinite(v)) {
            sum += v;
            ++n;
        }
    return n > 0 ? sum / double(n) : std::numeric_limits<double>::quiet_NaN();
}

int64_t comparePosition(int64_t tokenCount, int64_t selectedToken) {
    if (tokenCount <= 0) return -1;
    return selectedToken >= 0 && selectedToken < tokenCount ? selectedToken : tokenCount - 1;
}

SweepTable::SweepTable(int64_t layers, int64_t heads)
    : m_layers(layers), m_heads(heads),
      m_values(static_cast<size_t>(layers * heads), std::numeric_limits<double>::quiet_NaN()),
      m_set(static_cast<size_t>(layers * heads), false) {}

void SweepTable::set(int64_t layer, int64_t head, double value) {
    if (layer < 0 || layer >= m_layers || head < 0 || head >= m_heads) return;
    const size_t at = size_t(layer * m_heads + head);
    if (!m_set[at]) ++m_done; // a head whose value is NaN still counts as done
    m_set[at] = true;
    m_values[at] = value;
}

HeadMetric SweepTable::metric(const std::string& name) const { return makeHeadMetric(name, m_values); }

void upsertMetric(std::vector<HeadMetric>& metrics, HeadMetric metric) {
    for (auto& m : metrics)
        if (m.name == metric.name) {
            m = std::move(metric);
            return;
        }
    metrics.push_back(std::move(metric));
}

void eraseMetric(std::vector<HeadMetric>& metrics, const std::string& name) {
    metrics.erase(std::remove_if(metrics.begin(), metrics.end(), [&](const HeadMetric& m) { return m.name == name; }),
                  metrics.end());
}

std::vector<core::HeadRef> headRefs(const std::vector<std::pair<int64_t, int64_t>>& picked) {
    std::vector<core::HeadRef> refs;
    for (const auto& [l, h] : picked)
        refs.push_back(core::HeadRef{l, h, false});
    return refs;
}

std::filesystem::path runsFolder(const char* xdgDataHome, const char* home) {
    if (xdgDataHome && *xdgDataHome) return std::filesystem::path(xdgDataHome) / "attnscope" / "runs";
    if (home && *home) return std::filesystem::path(home) / ".local" / "share" / "attnscope" / "runs";
    return std::filesystem::path("attnscope-runs");
}

std::string timestampRunName(std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
    return std::string(buf) + ".attn.h5";
}

core::TaskItem screeningItem(const core::RunTokens& tokens) {
    const size_t n = tokens.ids.size();
    if (n < 2 || tokens.spans.size() != n)
        throw core::ArgumentError("Screening heads needs a run of at least two tokens with their text.");
    const size_t middle = n / 2;
    const auto cut = static_cast<size_t>(std::clamp<int64_t>(tokens.spans[middle][0], 0, int64_t(tokens.text.size())));
    core::TaskItem item{tokens.text.substr(0, cut), tokens.text.substr(cut)};
    if (item.prompt.empty() || item.answer.empty())
        throw core::ArgumentError("Screening heads needs a run whose text splits into a prompt and an answer.");
    return item;
}

std::string differenceBlocker(const RunSnapshot& a, const RunSnapshot& b) {
    if (a.layers() != b.layers() || a.heads() != b.heads())
        return "The runs have different shapes (" + std::to_string(a.layers()) + "x" + std::to_string(a.heads()) +
               " and " + std::to_string(b.layers()) + "x" + std::to_string(b.heads()) + " heads).";
    if (a.tokenCount() != b.tokenCount())
        return "The runs have different lengths (" + std::to_string(a.tokenCount()) + " and " +
               std::to_string(b.tokenCount()) + " tokens).";
    return {};
}

} // namespace attnscope::views

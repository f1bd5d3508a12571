#pragma once
// Fetches one token's attention row or column (mean over some heads) from a run file off the UI thread: the UI asks
// with request() and polls each frame; only the latest request counts (a newer one cancels a running fetch and the
// older result is never shown). The worker keeps its own RunReader between fetches. Thread: UI, except fetchWeights.
#include "jobs/background_job.hpp"
#include "text_shading.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace attnscope::core {
class RunReader;
}

namespace attnscope::views {

struct AttentionQuery {
    std::filesystem::path run;
    std::vector<std::pair<int64_t, int64_t>> heads; // (layer, head); the weights are their mean
    int64_t token = -1;
    ShadeDirection direction = ShadeDirection::FromSelected;
    bool operator==(const AttentionQuery&) const = default;
};

struct AttentionWeights {
    AttentionQuery query;
    std::vector<float> weights; // [T]: A[token, t] (FromSelected) or A[t, token] (ToSelected), 0 where out of reach
};

// The weights of `query` read with `reader` (exact level-0 values via RunReader::block: O(T) per head). Throws
// ArgumentError for a token or head outside the run, the reader's errors otherwise, Cancelled when progress says so.
std::vector<float> fetchWeights(core::RunReader& reader, const AttentionQuery& query,
                                const core::Progress* progress = nullptr);

class AttentionFetch {
public:
    AttentionFetch();
    ~AttentionFetch();
    AttentionFetch(const AttentionFetch&) = delete;
    AttentionFetch& operator=(const AttentionFetch&) = delete;

    // Asks for `query`; ignored when it equals the latest request. A query with no heads or token < 0 clears the
    // result instead.
    void request(const AttentionQuery& query);
    // Each frame: takes a finished fetch and starts the pending one. True when latest() or error() changed.
    bool poll();
    // The newest finished fetch (it may answer an older request while the latest is on its way: the view keeps showing
    // it rather than flashing); nullptr before the first and after a clearing request.
    const AttentionWeights* latest() const { return m_latest ? &*m_latest : nullptr; }
    // Whether latest() answers the latest request.
    bool current() const { return m_latest && m_requested && m_latest->query == *m_requested; }
    const std::string& error() const { return m_error; } // one sentence; empty when the latest fetch succeeded
    bool busy() const { return m_job != nullptr || m_pending.has_value(); }

private:
    struct Worker;
    void start(AttentionQuery query);

    std::shared_ptr<Worker> m_worker; // the reader, used by one job at a time
    std::unique_ptr<core::BackgroundJob<AttentionWeights>> m_job;
    std::optional<AttentionQuery> m_pending, m_requested;
    std::optional<AttentionWeights> m_latest;
    std::string m_error;
};

} // namespace attnscope::views

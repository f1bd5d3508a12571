#include "attention_fetch.hpp"

#include "errors.hpp"
#include "store/run_reader.hpp"

namespace attnscope::views {

std::vector<float> fetchWeights(core::RunReader& reader, const AttentionQuery& query, const core::Progress* progress) {
    const int64_t T = int64_t(reader.tokens().ids.size());
    if (query.token < 0 || query.token >= T)
        throw core::ArgumentError("Run file '" + reader.path().string() + "' has no token " +
                                  std::to_string(query.token) + " (it holds " + std::to_string(T) + ").");
    std::vector<std::vector<float>> perHead;
    for (const auto& [layer, head] : query.heads) {
        if (progress && progress->cancelled()) throw core::Cancelled();
        std::vector<float> w(size_t(T), 0.0f);
        if (query.direction == ShadeDirection::FromSelected) {
            // Keys after the query are masked: read only up to the diagonal.
            const std::vector<float> row = reader.block(layer, head, query.token, 0, 1, query.token + 1);
            std::copy(row.begin(), row.end(), w.begin());
        } else {
            // Queries before the key cannot see it: read only from the diagonal down.
            const std::vector<float> column = reader.block(layer, head, query.token, query.token, T - query.token, 1);
            std::copy(column.begin(), column.end(), w.begin() + query.token);
        }
        perHead.push_back(std::move(w));
    }
    return meanOfHeads(perHead);
}

struct AttentionFetch::Worker {
    std::unique_ptr<core::RunReader> reader;
};

AttentionFetch::AttentionFetch() : m_worker(std::make_shared<Worker>()) {}

// Destroying m_job cancels and joins it, before the worker's reader goes.
AttentionFetch::~AttentionFetch() = default;

void AttentionFetch::request(const AttentionQuery& query) {
    if (m_requested && *m_requested == query) return;
    m_requested = query;
    if (query.heads.empty() || query.token < 0) {
        m_pending.reset();
        m_latest.reset();
        m_error.clear();
        if (m_job) m_job->cancel();
        return;
    }
    m_pending = query;
    if (m_job) m_job->cancel(); // superseded: its result will be dropped
}

void AttentionFetch::start(AttentionQuery query) {
    std::shared_ptr<Worker> worker = m_worker;
    m_job = std::make_unique<core::BackgroundJob<AttentionWeights>>(
        [worker, query = std::move(query)](core::Progress& progress) {
            if (!worker->reader || worker->reader->path() != query.run)
                worker->reader = std::make_unique<core::RunReader>(query.run, 16ull << 20);
            AttentionWeights result;
            result.query = query;
            result.weights = fetchWeights(*worker->reader, query, &progress);
            return result;
        });
}

bool AttentionFetch::poll() {
    bool changed = false;
    if (m_job && m_job->ready()) {
        const bool current = !m_pending.has_value();
        if (m_job->succeeded()) {
            AttentionWeights result = m_job->take();
            // After a clearing request nothing is shown, not even a fetch that finished before it noticed.
            if (m_requested && !m_requested->heads.empty() && m_requested->token >= 0) {
                m_latest = std::move(result);
                if (current) m_error.clear();
                changed = true;
            }
        } else if (!m_job->wasCancelled() && current) {
            m_error = m_job->error();
            m_latest.reset();
            changed = true;
        }
        m_job.reset(); // finished: joining returns at once
    }
    if (!m_job && m_pending) {
        start(std::move(*m_pending));
        m_pending.reset();
    }
    return changed;
}

} // namespace attnscope::views

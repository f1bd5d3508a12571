#pragma once
// Progress and cancellation shared between a worker and whoever watches it (CLI bar, GUI frame). Lock-free.
#include <atomic>
#include <exception>
#include <cstdint>
#include <string>
#include <mutex>
#include <utility>

namespace attnscope::core {

class Progress {
public:
    // Starts a new stage of `total` units (e.g. "generate" tokens, "capture" layers).
    void begin(const std::string& stage, int64_t total) {
        {
            std::lock_guard lock(m_mutex);
            m_stage = stage;
            m_detail.clear();
        }
        m_total = total;
        m_done = 0;
    }
    void advance(int64_t units = 1) { m_done += units; }
    void cancel() { m_cancelled = true; }
    bool cancelled() const { return m_cancelled; }
    int64_t done() const { return m_done; }
    int64_t total() const { return m_total; }
    std::string stage() const {
        std::lock_guard lock(m_mutex);
        return m_stage;
    }
    // A short line about the latest unit (e.g. "loss 2.31, 41k tok/s"); empty when the stage has none.
    void setDetail(std::string detail) {
        std::lock_guard lock(m_mutex);
        m_detail = std::move(detail);
    }
    std::string detail() const {
        std::lock_guard lock(m_mutex);
        return m_detail;
    }

private:
    mutable std::mutex m_mutex; // guards m_stage and m_detail only; counters are atomics read every frame
    std::string m_stage, m_detail;
    std::atomic<int64_t> m_total{0}, m_done{0};
    std::atomic<bool> m_cancelled{false};
};

// Thrown by a worker that saw Progress::cancelled(); the job boundary treats it as a clean stop.
struct Cancelled : std::exception {
    const char* what() const noexcept override { return "cancelled"; }
};

} // namespace attnscope::core

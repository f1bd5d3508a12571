#pragma once
// A function run on its own thread with a Progress: the UI polls ready() each frame and takes the result once; an
// exception (ours, c10::Error, HDF5's) becomes error(), a one-sentence message; none reaches the caller's loop.
// Destroying the job cancels it and waits for the thread. Thread: the owner's (UI); the function runs on the job's.
#include "errors.hpp"
#include "jobs/progress.hpp"

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

namespace attnscope::core {

template <typename T> class BackgroundJob {
public:
    // Starts fn(progress) on a new thread.
    explicit BackgroundJob(std::function<T(Progress&)> fn) {
        m_thread = std::thread([this, fn = std::move(fn)] {
            try {
                m_result.emplace(fn(m_progress));
            } catch (const Cancelled&) {
                m_cancelled = true;
            } catch (const std::exception& e) {
                m_error = e.what();
            } catch (...) {
                m_error = "The job stopped with an unknown error.";
            }
            m_ready.store(true, std::memory_order_release);
        });
    }
    ~BackgroundJob() {
        m_progress.cancel();
        if (m_thread.joinable()) m_thread.join();
    }
    BackgroundJob(const BackgroundJob&) = delete;
    BackgroundJob& operator=(const BackgroundJob&) = delete;

    bool ready() const { return m_ready.load(std::memory_order_acquire); }
    void cancel() { m_progress.cancel(); }
    const Progress& progress() const { return m_progress; }
    // Fraction done in [0, 1] of the current stage (0 when its total is unknown).
    float fraction() const {
        const auto total = m_progress.total();
        return total > 0 ? float(double(m_progress.done()) / double(total)) : 0.0f;
    }

    // After ready(): exactly one of these holds.
    bool succeeded() const { return ready() && m_result.has_value(); }
    bool wasCancelled() const { return ready() && m_cancelled; }
    const std::string& error() const { return m_error; } // empty unless it failed
    // The result, moved out; call once, after succeeded().
    T take() { return std::move(*m_result); }

private:
    Progress m_progress;
    std::optional<T> m_result;
    std::string m_error;
    bool m_cancelled = false;
    std::atomic<bool> m_ready{false};
    std::thread m_thread; // last: started after every member it uses exists
};

} // namespace attnscope::core

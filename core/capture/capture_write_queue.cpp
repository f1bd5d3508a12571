#include "capture/capture_write_queue.hpp"

#include <algorithm>

namespace attnscope::core {

CaptureWriteQueue::CaptureWriteQueue(size_t capacity)
    : m_capacity(std::max<size_t>(1, capacity)), m_thread([this] { run(); }) {}

CaptureWriteQueue::~CaptureWriteQueue() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
        m_jobs.clear();
    }
    m_changed.notify_all();
    m_thread.join();
}

void CaptureWriteQueue::rethrowFailure(std::unique_lock<std::mutex>& lock) {
    if (!m_failure) return;
    std::exception_ptr failure = m_failure;
    lock.unlock();
    std::rethrow_exception(failure);
}

void CaptureWriteQueue::post(std::function<void()> job) {
    std::unique_lock lock(m_mutex);
    m_changed.wait(lock, [&] { return m_failure || m_jobs.size() < m_capacity; });
    rethrowFailure(lock);
    m_jobs.push_back(std::move(job));
    lock.unlock();
    m_changed.notify_all();
}

void CaptureWriteQueue::drain() {
    std::unique_lock lock(m_mutex);
    m_changed.wait(lock, [&] { return m_failure || (m_jobs.empty() && !m_running); });
    rethrowFailure(lock);
}

void CaptureWriteQueue::run() {
    std::unique_lock lock(m_mutex);
    for (;;) {
        m_changed.wait(lock, [&] { return m_stopping || !m_jobs.empty(); });
        if (m_stopping) return;
        std::function<void()> job = std::move(m_jobs.front());
        m_jobs.pop_front();
        m_running = true;
        lock.unlock();
        m_changed.notify_all(); // a slot is free for post()
        std::exception_ptr failure;
        try {
            job();
        } catch (...) {
            failure = std::current_exception();
        }
        job = nullptr; // the job's data (a layer's reductions) goes now, not when the next one arrives
        lock.lock();
        m_running = false;
        if (failure && !m_failure) m_failure = failure;
        if (m_failure) m_jobs.clear();
        m_changed.notify_all();
    }
}

} // namespace attnscope::core

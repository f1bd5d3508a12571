#pragma once
// Runs a capture's writes to its run file on one background thread, in the order they were posted, so that storing a
// finished layer (already compressed by the capture thread) and full-map rows overlaps the next layer's attention. One thread posts (the capture's worker); at most
// `capacity` jobs wait, then post() blocks, which bounds the memory that queued layers hold.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace attnscope::core {

class CaptureWriteQueue {
public:
    explicit CaptureWriteQueue(size_t capacity = 1);
    // Drops the jobs not yet started and waits for the running one (an interrupted capture); never throws.
    ~CaptureWriteQueue();
    CaptureWriteQueue(const CaptureWriteQueue&) = delete;
    CaptureWriteQueue& operator=(const CaptureWriteQueue&) = delete;

    // Queues a job. Rethrows the failure of an earlier job, so that a failed write stops the capture early; jobs
    // after a failed one are dropped.
    void post(std::function<void()> job);
    // Returns once every posted job has run; rethrows the first failure.
    void drain();

private:
    void run();
    void rethrowFailure(std::unique_lock<std::mutex>& lock);

    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::deque<std::function<void()>> m_jobs;
    size_t m_capacity;
    bool m_running = false; // a job is being run outside the lock
    bool m_stopping = false;
    std::exception_ptr m_failure;
    std::thread m_thread; // last: started once the members it uses exist
};

} // namespace attnscope::core

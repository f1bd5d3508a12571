#pragma once
// One thread that owns a loaded model and runs submitted jobs on it, in order. The UI thread submits and polls each
// job's handle (ready, fraction, stage, cancel, result or a one-sentence error) every frame and never waits; model
// errors and missing models become messages. Thread: every public method is for the UI (owner) thread.
#include "jobs/progress.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace attnscope::core {
class Transformer;
}

namespace attnscope::views {

// A job's shared state: written by the worker, polled by the UI.
class WorkerJobBase {
public:
    virtual ~WorkerJobBase() = default;
    bool ready() const { return m_ready.load(std::memory_order_acquire); }
    bool started() const { return m_started.load(std::memory_order_acquire); }
    // Asks the job to stop (a queued one is skipped); it becomes ready with wasCancelled() soon after.
    void cancel() { m_progress.cancel(); }
    const core::Progress& progress() const { return m_progress; }
    // Fraction done in [0, 1] of the current stage (0 when its total is unknown).
    float fraction() const {
        const auto total = m_progress.total();
        return total > 0 ? float(double(m_progress.done()) / double(total)) : 0.0f;
    }
    std::string stage() const { return m_progress.stage(); }
    const std::string& label() const { return m_label; }

    // After ready(): exactly one of these holds.
    bool succeeded() const { return ready() && !m_cancelled && m_error.empty(); }
    bool wasCancelled() const { return ready() && m_cancelled; }
    const std::string& error() const { return m_error; } // empty unless it failed; read after ready()

protected:
    explicit WorkerJobBase(std::string label) : m_label(std::move(label)) {}
    // Runs the job on the worker thread (model is never null when needsModel()); the worker catches exceptions.
    virtual void execute(std::unique_ptr<core::Transformer>& model) = 0;
    virtual bool needsModel() const { return true; }
    core::Progress m_progress;

private:
    friend class ModelWorker;
    std::string m_label, m_error;
    bool m_cancelled = false;
    std::atomic<bool> m_started{false}, m_ready{false};
};

template <typename T> class WorkerJob : public WorkerJobBase {
public:
    using Fn = std::function<T(core::Transformer&, core::Progress&)>;
    WorkerJob(std::string label, Fn fn) : WorkerJobBase(std::move(label)), m_fn(std::move(fn)) {}
    // The result, moved out; call once, after succeeded().
    T take() { return std::move(*m_result); }

protected:
    void execute(std::unique_ptr<core::Transformer>& model) override;

private:
    Fn m_fn;
    std::optional<T> m_result;
};

// What the worker has loaded (a copy; safe to read on the UI thread).
struct WorkerModel {
    std::filesystem::path path; // empty: none
    std::string device;         // as asked: "cpu", "cuda", "cuda:N"
    std::string description;    // "llama, 4 layers x 8 heads, cpu" once loaded
    std::string error;          // the last load's failure, one sentence; empty when it loaded
    bool loaded() const { return !path.empty() && error.empty(); }
};

class ModelWorker {
public:
    ModelWorker();
    // Cancels the running job and every queued one, then waits for the thread (the running job stops at its next
    // cancellation check).
    ~ModelWorker();
    ModelWorker(const ModelWorker&) = delete;
    ModelWorker& operator=(const ModelWorker&) = delete;

    // Queues loading `path` on `device` ("cpu", "cuda", "cuda:N"); jobs queued after it run on that model. Loading a
    // different model first frees the current one; the same path and device again is a no-op that succeeds.
    std::shared_ptr<WorkerJobBase> load(const std::filesystem::path& path, const std::string& device = "cpu");
    // load() unless (path, device) is what the last load() asked for; returns the new load job or null.
    std::shared_ptr<WorkerJobBase> ensureLoaded(const std::filesystem::path& path, const std::string& device = "cpu");

    // Queues fn(model, progress). Without a loaded model the job fails with the load's error. fn should check
    // progress.cancelled() and throw core::Cancelled (core's jobs do).
    template <typename T> std::shared_ptr<WorkerJob<T>> submit(std::string label, typename WorkerJob<T>::Fn fn) {
        auto job = std::make_shared<WorkerJob<T>>(std::move(label), std::move(fn));
        enqueue(job);
        return job;
    }

    WorkerModel model() const;
    const std::filesystem::path& requestedPath() const { return m_requestedPath; }
    const std::string& requestedDevice() const { return m_requestedDevice; }
    // Jobs queued or running (loads included).
    int pending() const { return m_pending.load(); }
    bool busy() const { return pending() > 0; }

private:
    class LoadJob;
    void enqueue(std::shared_ptr<WorkerJobBase> job);
    void loop();
    void finish(WorkerJobBase& job, bool cancelled, std::string error);

    std::filesystem::path m_requestedPath; // UI thread only
    std::string m_requestedDevice;
    mutable std::mutex m_mutex; // guards m_queue, m_stop, m_model
    std::condition_variable m_wake;
    std::deque<std::shared_ptr<WorkerJobBase>> m_queue;
    std::shared_ptr<WorkerJobBase> m_running;
    bool m_stop = false;
    WorkerModel m_model;
    std::atomic<int> m_pending{0};
    std::unique_ptr<core::Transformer> m_transformer; // worker thread only
    std::thread m_thread;                             // last: started after every member it uses exists
};

// Which devices this build can run on: "cpu", then "cuda" (and "cuda:N" for N > 0) when libtorch sees GPUs.
std::vector<std::string> availableDevices();

template <typename T> void WorkerJob<T>::execute(std::unique_ptr<core::Transformer>& model) {
    m_result.emplace(m_fn(*model, m_progress));
}

} // namespace attnscope::views

#include "model_worker.hpp"

#include "thread_priority.hpp"

#include "runtime/transformer.hpp"

#include <ATen/Context.h>

#include <exception>

namespace attnscope::views {

namespace {

// c10::Error appends a C++ backtrace after the first line; the UI shows one sentence.
std::string firstLine(const char* what) {
    std::string s = what ? what : "";
    const auto nl = s.find('\n');
    if (nl != std::string::npos) s.resize(nl);
    return s.empty() ? "The job stopped with an unknown error." : s;
}

} // namespace

class ModelWorker::LoadJob : public WorkerJobBase {
public:
    LoadJob(ModelWorker& worker, std::filesystem::path path, std::string device)
        : WorkerJobBase("load " + path.string()), m_worker(worker), m_path(std::move(path)),
          m_device(std::move(device)) {}

protected:
    bool needsModel() const override { return false; }

    void execute(std::unique_ptr<core::Transformer>& model) override {
        {
            std::lock_guard lock(m_worker.m_mutex);
            if (model && m_worker.m_model.path == m_path && m_worker.m_model.device == m_device) return;
            m_worker.m_model = WorkerModel{m_path, m_device, {}, {}};
        }
        m_progress.begin("load", 1);
        model.reset(); // two models at once would not fit where one barely does
        core::RuntimeOptions options;
        options.device = m_device;
        std::unique_ptr<core::Transformer> loaded;
        std::exception_ptr failure;
        // Loaded on a thread of its own, as attnscope-cli does: jobs then run on a thread other than the loading
        // one (organism_model.hpp: on the loading thread the same work took 5-10x longer, in libgomp's spin-waits).
        std::thread([&] {
            lowerThisThreadPriority();
            try {
                loaded = core::Transformer::load(m_path, options);
            } catch (...) {
                failure = std::current_exception();
            }
        }).join();
        std::string error;
        if (failure) {
            try {
                std::rethrow_exception(failure);
            } catch (const std::exception& e) {
                error = firstLine(e.what());
            } catch (...) {
                error = "The model '" + m_path.string() + "' could not be loaded.";
            }
        }
        std::lock_guard lock(m_worker.m_mutex);
        if (!error.empty()) {
            m_worker.m_model.error = error;
            throw std::runtime_error(error);
        }
        model = std::move(loaded);
        const auto& c = model->config();
        m_worker.m_model.description = c.modelType + ", " + std::to_string(c.nLayers) + " layers x " +
                                       std::to_string(c.nHeads) + " heads, " + model->deviceName();
        m_progress.advance();
    }

private:
    ModelWorker& m_worker;
    std::filesystem::path m_path;
    std::string m_device;
};

ModelWorker::ModelWorker() {
    m_thread = std::thread([this] { loop(); });
}

ModelWorker::~ModelWorker() {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
        if (m_running) m_running->cancel();
        for (auto& job : m_queue)
            job->cancel();
    }
    m_wake.notify_all();
    if (m_thread.joinable()) m_thread.join();
}

std::shared_ptr<WorkerJobBase> ModelWorker::load(const std::filesystem::path& path, const std::string& device) {
    m_requestedPath = path;
    m_requestedDevice = device;
    auto job = std::make_shared<LoadJob>(*this, path, device);
    enqueue(job);
    return job;
}

std::shared_ptr<WorkerJobBase> ModelWorker::ensureLoaded(const std::filesystem::path& path, const std::string& device) {
    if (path == m_requestedPath && device == m_requestedDevice) return nullptr;
    return load(path, device);
}

WorkerModel ModelWorker::model() const {
    std::lock_guard lock(m_mutex);
    return m_model;
}

void ModelWorker::enqueue(std::shared_ptr<WorkerJobBase> job) {
    ++m_pending;
    {
        std::lock_guard lock(m_mutex);
        m_queue.push_back(std::move(job));
    }
    m_wake.notify_one();
}

void ModelWorker::finish(WorkerJobBase& job, bool cancelled, std::string error) {
    job.m_cancelled = cancelled;
    job.m_error = std::move(error);
    job.m_ready.store(true, std::memory_order_release);
    --m_pending;
}

void ModelWorker::loop() {
    lowerThisThreadPriority();
    for (;;) {
        std::shared_ptr<WorkerJobBase> job;
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [&] { return m_stop || !m_queue.empty(); });
            if (m_stop) {
                for (auto& queued : m_queue)
                    finish(*queued, true, {});
                m_queue.clear();
                break;
            }
            job = std::move(m_queue.front());
            m_queue.pop_front();
            m_running = job;
        }
        job->m_started.store(true, std::memory_order_release);
        bool cancelled = false;
        std::string error;
        if (job->m_progress.cancelled()) {
            cancelled = true;
        } else if (job->needsModel() && !m_transformer) {
            const WorkerModel m = model();
            error = !m.error.empty() ? m.error
                    : m.path.empty() ? "No model is loaded; choose one in the capture panel."
                                     : "The model '" + m.path.string() + "' is not loaded.";
        } else {
            try {
                job->execute(m_transformer);
            } catch (const core::Cancelled&) {
                cancelled = true;
            } catch (const std::exception& e) {
                error = firstLine(e.what());
            } catch (...) {
                error = "The job '" + job->label() + "' stopped with an unknown error.";
            }
        }
        {
            std::lock_guard lock(m_mutex);
            m_running.reset();
        }
        finish(*job, cancelled, std::move(error));
    }
    m_transformer.reset(); // on the thread that ran it
}

std::vector<std::string> availableDevices() {
    static const std::vector<std::string> devices = [] {
        std::vector<std::string> d{"cpu"};
        if (at::hasCUDA()) {
            const auto n = at::getNumGPUs();
            for (size_t i = 0; i < n; ++i)
                d.push_back(i == 0 ? "cuda" : "cuda:" + std::to_string(i));
        }
        return d;
    }();
    return devices;
}

} // namespace attnscope::views

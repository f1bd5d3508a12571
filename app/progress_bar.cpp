#include "progress_bar.hpp"

#include "jobs/progress.hpp"

#include <fmt/core.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <exception>
#include <thread>
#include <unistd.h>

namespace attnscope::app {

namespace {

std::atomic<core::Progress*> g_progress{nullptr};

extern "C" void onInterrupt(int) {
    // First Ctrl-C asks the job to stop cleanly (temporary files removed); a second one kills as usual.
    if (auto* p = g_progress.load()) p->cancel();
    std::signal(SIGINT, SIG_DFL);
}

void draw(const core::Progress& p, double seconds, bool tty) {
    const int64_t total = p.total(), done = p.done();
    if (total <= 0) return;
    const double frac = std::min(1.0, double(done) / double(total));
    const int width = 30;
    const int filled = int(frac * width);
    const double eta = done > 0 ? seconds * (double(total - done) / double(done)) : 0.0;
    const std::string detail = p.detail();
    fmt::print(stderr, "{}{:<8} [{}{}] {}/{} {}{:.0f}s elapsed, ETA {:.0f}s{}", tty ? "\r" : "", p.stage(),
               std::string(filled, '#'), std::string(width - filled, '.'), done, total,
               detail.empty() ? "" : detail + ", ", seconds, eta, tty ? "   " : "\n");
}

} // namespace

void runWithProgressBar(core::Progress& progress, const std::function<void()>& job) {
    std::exception_ptr error;
    std::atomic<bool> finished{false};
    g_progress = &progress;
    auto previous = std::signal(SIGINT, onInterrupt);
    std::thread worker([&] {
        try {
            job();
        } catch (...) {
            error = std::current_exception();
        }
        finished = true;
    });
    const bool tty = ::isatty(STDERR_FILENO);
    const auto start = std::chrono::steady_clock::now();
    auto lastDraw = start;
    std::string lastStage;
    while (!finished) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        const auto now = std::chrono::steady_clock::now();
        // Off a terminal, print a line per stage change or every 10 s so logs stay short.
        if (tty || progress.stage() != lastStage || now - lastDraw > std::chrono::seconds(10)) {
            draw(progress, std::chrono::duration<double>(now - start).count(), tty);
            lastDraw = now;
            lastStage = progress.stage();
        }
    }
    worker.join();
    if (tty) fmt::print(stderr, "\n");
    std::signal(SIGINT, previous);
    g_progress = nullptr;
    if (error) std::rethrow_exception(error);
}

} // namespace attnscope::app

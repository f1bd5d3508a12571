#pragma once
// Runs one measured job in a forked child so that its peak RSS is its own: the job returns seconds (negative: it did
// not apply), the parent gets them with the child's ru_maxrss. The parent must not have started torch's OpenMP pool
// (libgomp hangs in children forked after it).
#include <functional>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace attnscope::bench {

struct Measured {
    double seconds = 0;
    double peakGiB = 0;
    bool ok = false;
};

inline Measured measureInChild(const std::function<double()>& job) {
    int pipeFd[2];
    if (::pipe(pipeFd) != 0) return {};
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(pipeFd[0]);
        const double s = job();
        (void)!::write(pipeFd[1], &s, sizeof s);
        ::_exit(0);
    }
    ::close(pipeFd[1]);
    Measured r;
    r.ok = ::read(pipeFd[0], &r.seconds, sizeof r.seconds) == sizeof r.seconds;
    ::close(pipeFd[0]);
    int status = 0;
    struct rusage usage {};
    ::wait4(pid, &status, 0, &usage);
    r.peakGiB = double(usage.ru_maxrss) / (1 << 20);
    r.ok = r.ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    return r;
}

} // namespace attnscope::bench

#pragma once
// The committed organism (resources/models/organism), loaded once per test process, and onWorker(), which runs model
// work on a worker thread as attnscope-cli and the GUI do. (On the loaded 2-core test machine the same work took
// 5-10x longer on the thread that loaded the model, its time spent in libgomp's spin-waits.)
#include "runtime/transformer.hpp"
#include "support/test_paths.hpp"

#include <thread>

namespace attnscope::test {

inline core::Transformer& organism() {
    static const auto model = core::Transformer::load(resourcesDir() / "models/organism", {});
    return *model;
}

template <typename F> auto onWorker(F&& f) {
    decltype(f()) result;
    std::thread([&] { result = f(); }).join();
    return result;
}

} // namespace attnscope::test

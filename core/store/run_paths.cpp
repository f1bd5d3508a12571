#include "store/run_writer.hpp"

#include <unistd.h>

namespace attnscope::core {

std::filesystem::path runTemporaryPath(const std::filesystem::path& finalPath) {
    // The pid keeps two captures to the same name from writing one temporary file.
    return finalPath.string() + ".tmp-" + std::to_string(::getpid());
}

} // namespace attnscope::core

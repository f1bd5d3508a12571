#pragma once
// State of one RunWriter (private to core/store): the open temporary file, its datasets, and what has been written.
#include "errors.hpp"
#include "store/h5_io.hpp"
#include "store/run_schema.hpp"
#include "store/run_writer.hpp"

#include <algorithm>
#include <array>
#include <map>

namespace attnscope::core {

struct RunWriter::Impl {
    std::filesystem::path finalPath, tempPath;
    H5Io io;
    RunLayout layout;
    int64_t L = 0, H = 0, Hkv = 0, d = 0, T = 0;
    H5Type half = h5HalfType();
    // The file is declared first so that it is destroyed last, after the objects inside it.
    H5File file;
    H5Dataset probs, q, k, qLo, kLo, lse, top1, valueNorm, residualNorm, loss, topkIds, topkProbs;
    std::array<H5Dataset, kRunFloatStats.size()> stats;
    std::map<int, std::array<H5Dataset, 2>> pyramid; // level -> {mean, max}
    std::vector<uint8_t> layerDone, rowDone;         // rowDone: [L][T] rows of full maps written
    bool committed = false, registered = false;

    explicit Impl(std::filesystem::path final)
        : finalPath(std::move(final)), tempPath(runTemporaryPath(finalPath)), io(tempPath) {}
    ~Impl(); // releases the temporary name

    [[noreturn]] void badArgument(const std::string& problem) const {
        throw ArgumentError("Cannot write run file '" + finalPath.string() + "': " + problem + ".");
    }

    void closeAll() {
        probs.reset(), q.reset(), k.reset(), qLo.reset(), kLo.reset(), lse.reset(), top1.reset(), valueNorm.reset(), residualNorm.reset();
        loss.reset(), topkIds.reset(), topkProbs.reset();
        for (auto& s : stats)
            s.reset();
        pyramid.clear();
        file.reset();
    }

    void create(const RunModelInfo& model, const RunTokens& tokens);
    void writeTokens(const RunTokens& tokens);
    void createDatasets();
    H5Plist mapAccessList() const;
};

inline hsize_t clampChunk(int64_t extent, int64_t limit) {
    return hsize_t(std::max<int64_t>(1, std::min(extent, limit)));
}

} // namespace attnscope::core

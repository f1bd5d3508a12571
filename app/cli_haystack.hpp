#pragma once
// The needle-in-a-haystack inputs shared by `retrieval` and `mask-retrieval`: --lengths, --depths, --needles,
// --haystack, --max-new, and reading them (the organism's bundled needles and haystack when none is given).
#include "analysis/needle_haystack.hpp"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace attnscope::core {
struct RetrievalParams;
}

namespace attnscope::app {

struct HaystackArgs {
    std::string needles, haystack; // empty: the organism's bundled files

    // `params` must outlive the command (CLI11 writes into it when parsing).
    void addTo(CLI::App& cmd, core::RetrievalParams& params);
    // Throw FileError/FormatError naming the file.
    std::vector<core::NeedleCase> readNeedleCases() const;
    std::string readHaystack() const;
    std::string needlesName() const;  // for the result's provenance
    std::string haystackName() const;
};

} // namespace attnscope::app

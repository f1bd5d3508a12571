#include "cli_haystack.hpp"

#include "analysis/retrieval_score.hpp"
#include "cli_common.hpp"
#include "organism/organism_haystack.hpp"

namespace attnscope::app {

void HaystackArgs::addTo(CLI::App& cmd, core::RetrievalParams& params) {
    cmd.add_option("--lengths", params.lengths,
                   "comma-separated context lengths in tokens (default: 20 from linspace(max(2 buffer, top/50), top), "
                   "top = min(max positions, 50000))")
        ->delimiter(',');
    cmd.add_option("--depths", params.depths, "comma-separated needle depths in percent")
        ->delimiter(',')
        ->capture_default_str();
    cmd.add_option("--needles", needles,
                   "JSONL of {\"needle\", \"question\", \"real_needle\"} (default: the organism's 3 needles, "
                   "resources/haystack/organism_needles.jsonl)");
    cmd.add_option("--haystack", haystack,
                   "text file repeated as the haystack (default: the organism's filler text, "
                   "resources/haystack/organism_haystack.txt)");
    cmd.add_option("--max-new", params.maxNewTokens, "greedy decoding steps at most")->capture_default_str();
}

std::vector<core::NeedleCase> HaystackArgs::readNeedleCases() const {
    return needles.empty() ? core::parseNeedles(core::organismNeedlesJsonl(), "organism_needles.jsonl")
                           : core::readNeedles(needles);
}

std::string HaystackArgs::readHaystack() const {
    return haystack.empty() ? core::organismHaystack() : readTextFile(haystack, "haystack");
}

std::string HaystackArgs::needlesName() const {
    return needles.empty() ? "organism_needles.jsonl (bundled)" : needles;
}

std::string HaystackArgs::haystackName() const {
    return haystack.empty() ? "organism_haystack.txt (bundled)" : haystack;
}

} // namespace attnscope::app

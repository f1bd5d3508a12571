#include "analysis/resampling_importance.hpp"

#include "errors.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

namespace attnscope::core {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

using Refs = std::vector<const AnswerRollout*>;

Refs refs(const std::vector<AnswerRollout>& rollouts) {
    Refs out;
    for (const AnswerRollout& r : rollouts)
        out.push_back(&r);
    return out;
}

bool answered(const AnswerRollout* r) {
    return !r->answer.empty();
}
bool scored(const AnswerRollout* r) {
    return answered(r) && r->correct.has_value();
}

// Replaces every "\name{X}" by X (one level of braces), as the reference's \text{} unwrapping does.
std::string unwrap(std::string s, std::string_view command) {
    const std::string open = std::string(command) + "{";
    for (size_t at = s.find(open); at != std::string::npos; at = s.find(open, at)) {
        const size_t close = s.find('}', at + open.size());
        if (close == std::string::npos) break;
        s = s.substr(0, at) + s.substr(at + open.size(), close - at - open.size()) + s.substr(close + 1);
    }
    return s;
}

std::string eraseAll(std::string s, std::string_view what) {
    for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at))
        s.erase(at, what.size());
    return s;
}

// The smallest present index above `index`, or -1.
int64_t nextOf(const std::set<int64_t>& present, int64_t index) {
    const auto it = present.upper_bound(index);
    return it == present.end() ? -1 : *it;
}

} // namespace

std::string normalizeAnswer(std::string_view answer) {
    std::string s(answer);
    for (const char* command : {"\\text", "\\textbf", "\\mathrm"})
        s = unwrap(std::move(s), command);
    for (const char* noise : {"\\displaystyle", "\\left", "\\right", "\\!", "$"})
        s = eraseAll(std::move(s), noise);
    std::string out;
    for (char c : s) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') continue;
        out.push_back(c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c);
    }
    if (!out.empty() && out.back() == '.') out.pop_back();
    return out;
}

double rolloutAccuracy(std::span<const AnswerRollout* const> rollouts) {
    int64_t correct = 0, total = 0;
    for (const AnswerRollout* r : rollouts) {
        if (!scored(r)) continue;
        ++total;
        correct += *r->correct ? 1 : 0;
    }
    return total > 0 ? double(correct) / double(total) : kNaN;
}

double answerKl(std::span<const AnswerRollout* const> first, std::span<const AnswerRollout* const> second,
                const ImportanceOptions& options) {
    const double a = options.alpha;
    if (options.klMode == KlMode::Binary) {
        auto counts = [](std::span<const AnswerRollout* const> rs) {
            std::pair<double, double> c{0, 0}; // correct, scored
            for (const AnswerRollout* r : rs)
                if (scored(r)) c = {c.first + (*r->correct ? 1 : 0), c.second + 1};
            return c;
        };
        const auto [c1, n1] = counts(first);
        const auto [c2, n2] = counts(second);
        if (n1 == 0 || n2 == 0) return 0.0;
        const double p = (c1 + a) / (n1 + 2 * a), q = (c2 + a) / (n2 + 2 * a);
        // 0·ln(0/q) is 0; with alpha > 0 neither side is ever exactly 0 or 1.
        auto term = [](double x, double y) { return x > 0 ? x * std::log(x / y) : 0.0; };
        return std::max(0.0, term(p, q) + term(1 - p, 1 - q));
    }
    std::map<std::string, std::pair<double, double>> counts;
    double n1 = 0, n2 = 0;
    for (const AnswerRollout* r : first)
        if (answered(r)) counts[normalizeAnswer(r->answer)].first += 1, n1 += 1;
    for (const AnswerRollout* r : second)
        if (answered(r)) counts[normalizeAnswer(r->answer)].second += 1, n2 += 1;
    if (n1 == 0 || n2 == 0) return 0.0;
    const double V = double(counts.size());
    double kl = 0.0;
    for (const auto& [answer, c] : counts) {
        const double p = (c.first + a) / (n1 + a * V), q = (c.second + a) / (n2 + a * V);
        if (p > 0) kl += p * std::log(p / q);
    }
    return std::max(0.0, kl);
}

std::vector<ChunkImportance> resamplingImportance(std::span<const ChunkRollouts> chunks,
                                                  const ImportanceOptions& options) {
    std::map<int64_t, const ChunkRollouts*> byIndex;
    for (const ChunkRollouts& c : chunks)
        if (!byIndex.emplace(c.index, &c).second)
            throw ArgumentError("Resampling importance got chunk " + std::to_string(c.index) + " twice.");
    std::map<int64_t, Refs> all, forced;
    std::map<int64_t, double> accuracy, forcedAccuracy;
    std::set<int64_t> withRollouts, withAccuracy, withForced, withForcedAccuracy;
    for (const auto& [index, c] : byIndex) {
        all[index] = refs(c->rollouts);
        forced[index] = refs(c->forced);
        accuracy[index] = rolloutAccuracy(all[index]);
        forcedAccuracy[index] = rolloutAccuracy(forced[index]);
        if (!c->rollouts.empty()) withRollouts.insert(index);
        if (!std::isnan(accuracy[index])) withAccuracy.insert(index);
        if (!c->forced.empty()) withForced.insert(index);
        if (!std::isnan(forcedAccuracy[index])) withForcedAccuracy.insert(index);
    }

    std::vector<ChunkImportance> out;
    for (const ChunkRollouts& c : chunks) {
        const int64_t i = c.index;
        const Refs& mine = all[i];
        ChunkImportance m;
        m.index = i;
        m.rollouts = int64_t(mine.size());
        m.answered = std::count_if(mine.begin(), mine.end(), answered);
        m.scored = std::count_if(mine.begin(), mine.end(), scored);
        m.correctCount =
            std::count_if(mine.begin(), mine.end(), [](const AnswerRollout* r) { return scored(r) && *r->correct; });
        m.accuracy = accuracy[i];
        m.forcedAnswerAccuracy = forcedAccuracy[i];

        // Resampling importance (§4.3 L508-593): what keeping sentence i (chunk i+1's rollouts) changes.
        if (const int64_t next = nextOf(withAccuracy, i); next >= 0 && withAccuracy.count(i))
            m.resamplingAccuracy = accuracy[next] - accuracy[i];
        const int64_t nextChunk = nextOf(withRollouts, i);
        if (nextChunk >= 0) m.resamplingKl = answerKl(mine, all[nextChunk], options);

        // Counterfactual importance (§4.3 L305-506): only the rollouts whose first sentence means something else.
        Refs different, similar;
        std::vector<std::string> resampled;
        for (const AnswerRollout* r : mine) {
            if (std::isnan(r->similarity)) continue;
            resampled.push_back(r->resampled);
            (r->similarity < options.similarityThreshold ? different : similar).push_back(r);
        }
        if (!mine.empty()) m.differentTrajectoriesFraction = double(different.size()) / double(mine.size());
        if (!resampled.empty()) {
            const std::set<std::string> unique(resampled.begin(), resampled.end());
            m.overdeterminedness = 1.0 - double(unique.size()) / double(resampled.size());
        }
        if (!different.empty() && nextChunk >= 0) {
            const double differentAccuracy = rolloutAccuracy(different);
            const int64_t nextScored = nextOf(withAccuracy, i);
            if (!std::isnan(differentAccuracy) && nextScored >= 0)
                m.counterfactualAccuracy = differentAccuracy - accuracy[nextScored];
            Refs reference = all[nextChunk];
            if (options.useSimilarChunks) reference.insert(reference.end(), similar.begin(), similar.end());
            m.counterfactualKl = answerKl(different, reference, options);
        }

        // Forced-answer importance (§4.3 L595-705): the same differences on forced-answer rollouts, when there are any.
        if (const int64_t next = nextOf(withForcedAccuracy, i); next >= 0 && withForcedAccuracy.count(i))
            m.forcedAccuracy = forcedAccuracy[next] - forcedAccuracy[i];
        if (const int64_t next = nextOf(withForced, i); next >= 0 && withForced.count(i))
            m.forcedKl = answerKl(forced[i], forced[next], options);
        out.push_back(m);
    }
    return out;
}

} // namespace attnscope::core

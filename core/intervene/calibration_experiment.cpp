#include "intervene/calibration_experiment.hpp"

#include "errors.hpp"
#include "intervene/edit_hook.hpp"
#include "intervene/logit_metrics.hpp"
#include "jobs/progress.hpp"
#include "model/tokenizer.hpp"
#include "runtime/transformer.hpp"

#include <fmt/core.h>

#include <fstream>

namespace attnscope::core {

namespace {

std::string unescape(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == 'n' || s[i + 1] == 't')) {
            out += s[++i] == 'n' ? '\n' : '\t';
            continue;
        }
        out += s[i];
    }
    return out;
}

// Prompt and answer ids of one item; the answer is what encoding prompt + answer adds, so that a leading space
// merges as it would in running text.
struct EncodedItem {
    std::vector<int32_t> prompt, answer;
};

EncodedItem encodeItem(const Tokenizer& tok, const TaskItem& item) {
    EncodedItem e;
    e.prompt = tok.encode(item.prompt, true).ids;
    std::vector<int32_t> full = tok.encode(item.prompt + item.answer, true).ids;
    if (full.size() > e.prompt.size() && std::equal(e.prompt.begin(), e.prompt.end(), full.begin()))
        e.answer.assign(full.begin() + long(e.prompt.size()), full.end());
    else
        e.answer = tok.encode(item.answer, false).ids;
    return e;
}

// Log-probabilities [answer tokens][V] predicting each answer token, under `hook` (null: the unedited model).
std::vector<double> answerLogProbs(Transformer& model, const EncodedItem& e, EditHook* hook, int64_t& vocab) {
    KvCache cache;
    ForwardOutput first = model.forward(e.prompt, &cache, hook, Logits::Last);
    std::vector<float> logits = first.logits;
    if (e.answer.size() > 1) {
        std::vector<int32_t> rest(e.answer.begin(), e.answer.end() - 1);
        ForwardOutput more = model.forward(rest, &cache, hook, Logits::All);
        logits.insert(logits.end(), more.logits.begin(), more.logits.end());
    }
    vocab = first.vocab;
    return logSoftmaxRows(logits, vocab);
}

class TaskScorer {
public:
    TaskScorer(Transformer& model, const std::vector<TaskItem>& items) : m_model(model) {
        for (const TaskItem& item : items) m_items.push_back(encodeItem(model.tokenizer(), item));
        for (const EncodedItem& e : m_items) {
            m_base.push_back(answerLogProbs(model, e, nullptr, m_vocab));
            m_answerTokens += int64_t(e.answer.size());
        }
        m_baseScore = score(nullptr, nullptr);
    }

    TaskScore score(EditHook* hook, double* meanSinks, const std::pair<int64_t, int64_t>* sinkHead = nullptr) {
        TaskScore s;
        double sinks = 0, klSum = 0;
        for (size_t i = 0; i < m_items.size(); ++i) {
            const EncodedItem& e = m_items[i];
            std::vector<double> logP = hook ? answerLogProbs(m_model, e, hook, m_vocab) : m_base[i];
            if (sinkHead) sinks += double(hook->actSinks(sinkHead->first, sinkHead->second).size());
            bool allTop = true;
            for (size_t t = 0; t < e.answer.size(); ++t) {
                const double* row = logP.data() + t * size_t(m_vocab);
                s.loss -= row[e.answer[t]];
                for (int64_t v = 0; v < m_vocab; ++v)
                    if (row[v] > row[e.answer[t]] || (row[v] == row[e.answer[t]] && v < e.answer[t])) allTop = false;
            }
            s.correct += allTop ? 1 : 0;
            klSum += meanKl(m_base[i], logP, m_vocab) * double(e.answer.size());
        }
        s.loss /= double(m_answerTokens);
        s.kl = klSum / double(m_answerTokens);
        s.accuracy = double(s.correct) / double(m_items.size());
        if (meanSinks) *meanSinks = sinks / double(m_items.size());
        return s;
    }

    const TaskScore& base() const { return m_baseScore; }
    int64_t answerTokens() const { return m_answerTokens; }

private:
    Transformer& m_model;
    std::vector<EncodedItem> m_items;
    std::vector<std::vector<double>> m_base;
    int64_t m_vocab = 0, m_answerTokens = 0;
    TaskScore m_baseScore;
};

EditSet single(const ActCalibration& act) {
    EditSet set;
    set.edits.push_back(act);
    return set;
}

} // namespace

std::vector<TaskItem> readTaskFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw FileError("Cannot read the task file '" + path.string() + "'.");
    std::vector<TaskItem> items;
    std::string line;
    for (int64_t n = 1; std::getline(in, line); ++n) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        const auto tab = line.find('\t');
        if (tab == std::string::npos || tab + 1 == line.size())
            throw FormatError("Line " + std::to_string(n) + " of the task file '" + path.string() +
                              "' is not 'prompt<TAB>expected answer'.");
        items.push_back({unescape(line.substr(0, tab)), unescape(line.substr(tab + 1))});
    }
    if (items.empty()) throw FormatError("The task file '" + path.string() + "' holds no 'prompt<TAB>answer' line.");
    return items;
}

EditSet CalibrationReport::edits() const { return anyHeads ? single(applied) : EditSet{}; }

CalibrationReport runCalibration(Transformer& model, const std::vector<TaskItem>& items,
                                 const CalibrationParams& params, Progress* progress) {
    const ModelConfig& c = model.config();
    if (items.empty()) throw ArgumentError("A calibration needs at least one task item.");
    validateEditSet(single(params.act), c);
    CalibrationReport r;
    r.items = int64_t(items.size());
    r.params = params;
    r.applied = params.act;
    TaskScorer scorer(model, items);
    r.answerTokens = scorer.answerTokens();
    r.before = scorer.base();
    if (params.screen) {
        ActCalibration gate = params.act;
        gate.heads.clear();
        std::vector<std::pair<int64_t, int64_t>> heads;
        for (int64_t l = 0; l < c.nLayers; ++l)
            for (int64_t h = 0; h < c.nHeads; ++h) heads.emplace_back(l, h);
        if (!params.screenAllLayers) heads = actHeads(gate, c);
        if (progress) progress->begin("screen", int64_t(heads.size()));
        r.applied.heads.clear();
        for (const auto& lh : heads) {
            ActCalibration one = params.act;
            one.heads = {HeadRef{lh.first, lh.second, false}};
            EditHook hook(single(one), c);
            ScreenRow row{lh.first, lh.second};
            row.score = scorer.score(&hook, &row.meanSinks, &lh);
            row.kept = row.score.accuracy > r.before.accuracy ||
                       (row.score.accuracy == r.before.accuracy && row.score.loss < r.before.loss);
            if (row.kept) r.applied.heads.push_back(one.heads[0]);
            r.screen.push_back(row);
            if (progress) {
                progress->advance();
                if (progress->cancelled()) throw Cancelled{};
            }
        }
        r.anyHeads = !r.applied.heads.empty();
    }
    if (progress) progress->begin("calibrate", 1);
    if (r.anyHeads) {
        EditHook hook(single(r.applied), c);
        r.after = scorer.score(&hook, nullptr);
    } else {
        r.after = r.before;
    }
    if (progress) progress->advance();
    return r;
}

AnalysisResult calibrationAnalysis(const CalibrationReport& r) {
    AnalysisResult a;
    a.name = "calibration";
    a.source = "methods.md §2.1; Yu et al. ICML 2024 (ACT), code models/llama_modelling_aug.py";
    a.version = 1;
    a.set("threshold", r.params.act.threshold);
    a.set("beta", r.params.act.beta);
    a.set("screen", int64_t(r.params.screen ? 1 : 0));
    a.set("items", r.items);
    a.set("answer_tokens", r.answerTokens);
    a.set("edits", editSetToJson(r.edits()));
    a.set("heads", r.anyHeads ? (r.applied.heads.empty() ? std::string("layers 2..L-2")
                                                         : formatHeadList(r.applied.heads))
                              : std::string("none"));
    const std::vector<double> before{r.before.loss, r.before.accuracy, r.before.kl};
    const std::vector<double> after{r.after.loss, r.after.accuracy, r.after.kl};
    a.add("before", {3}, before, "loss,accuracy,kl");
    a.add("after", {3}, after, "loss,accuracy,kl");
    if (!r.screen.empty()) {
        std::vector<int32_t> heads;
        std::vector<double> rows;
        for (const ScreenRow& s : r.screen) {
            heads.push_back(int32_t(s.layer));
            heads.push_back(int32_t(s.head));
            rows.insert(rows.end(), {s.score.loss, s.score.accuracy, s.score.kl, s.meanSinks, s.kept ? 1.0 : 0.0});
        }
        a.add("screen_heads", {int64_t(r.screen.size()), 2}, heads, "row,layer_head");
        a.add("screen", {int64_t(r.screen.size()), 5}, rows, "row,loss_accuracy_kl_sinks_kept");
    }
    return a;
}

std::string calibrationTable(const CalibrationReport& r) {
    std::string s = fmt::format("ACT (beta {}, threshold {}) on {} task items, {} answer tokens\n",
                                r.params.act.beta, r.params.act.threshold, r.items, r.answerTokens);
    if (!r.screen.empty()) {
        s += fmt::format("{:<7} {:>9} {:>9} {:>9} {:>7} {:>5}\n", "head", "loss", "accuracy", "KL", "sinks", "kept");
        for (const ScreenRow& row : r.screen)
            s += fmt::format("{:<7} {:>9.5f} {:>9.4f} {:>9.6f} {:>7.2f} {:>5}\n",
                             fmt::format("{}.{}", row.layer, row.head), row.score.loss, row.score.accuracy,
                             row.score.kl, row.meanSinks, row.kept ? "yes" : "");
    }
    s += fmt::format("heads calibrated: {}\n",
                     r.anyHeads ? (r.applied.heads.empty() ? std::string("all of layers 2..L-2")
                                                           : formatHeadList(r.applied.heads))
                                : std::string("none (no head improved on the baseline)"));
    s += fmt::format("{:<7} {:>9} {:>9} {:>9}\n", "", "loss", "accuracy", "KL");
    s += fmt::format("{:<7} {:>9.5f} {:>9.4f} {:>9.6f}\n", "before", r.before.loss, r.before.accuracy, r.before.kl);
    s += fmt::format("{:<7} {:>9.5f} {:>9.4f} {:>9.6f}\n", "after", r.after.loss, r.after.accuracy, r.after.kl);
    return s;
}

} // namespace attnscope::core

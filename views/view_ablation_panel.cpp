#include "view_ablation_panel.hpp"

#include "distribution_table.hpp"

#include "errors.hpp"
#include "intervene/edit_hook.hpp"
#include "jobs/progress.hpp"
#include "model/tokenizer.hpp"
#include "runtime/transformer.hpp"

#include <fmt/core.h>
#include <imgui.h>

#include <algorithm>
#include <cmath>

namespace attnscope::views {

namespace {

const char* const kMethods[] = {"zero", "mean", "resample", "uniform", "scale"};
const char* const kSweepMetrics[] = {"delta_loss", "kl", "ships", "logit_diff"};
constexpr int64_t kTopTokens = 8;

void addPieces(const core::Transformer& model, const std::vector<TokenProb>& tokens,
               std::map<int32_t, std::string>& pieces) {
    if (!model.hasTokenizer()) return;
    for (const auto& t : tokens)
        pieces.emplace(t.id, model.tokenizer().piece(t.id));
}

} // namespace

AblationPreview runAblationPreview(core::Transformer& model, const std::vector<int32_t>& ids,
                                   const core::AblationParams& params, core::Progress& progress) {
    const core::AblationReport report = core::runAblation(model, ids, params, &progress);
    if (progress.cancelled()) throw core::Cancelled{};
    AblationPreview p;
    p.metrics = report.set;
    p.baseLoss = report.baseLoss;
    p.target = report.target;
    // The distributions need the last position only; the ablated one sees the same edit runAblation measured.
    const core::ForwardOutput base = model.forward(ids, nullptr, nullptr, core::Logits::Last);
    core::EditHook hook(report.edits, model.config());
    hook.prepare(model, ids);
    const core::ForwardOutput ablated = model.forward(ids, nullptr, &hook, core::Logits::Last);
    p.before = topKFromLogits(base.logits.data(), base.vocab, kTopTokens);
    p.after = topKFromLogits(ablated.logits.data(), ablated.vocab, kTopTokens);
    addPieces(model, p.before, p.pieces);
    addPieces(model, p.after, p.pieces);
    if (model.hasTokenizer() && p.target >= 0) p.pieces.emplace(p.target, model.tokenizer().piece(p.target));
    return p;
}

ViewAblationPanel::ViewAblationPanel(ExplorerState& state, ModelWorker& worker)
    : ViewBase("Ablation"), m_state(state), m_worker(worker) {}

core::AblationParams ViewAblationPanel::params() const {
    core::AblationParams p;
    p.method = method;
    p.epsilon = epsilon;
    p.heads = headRefs(m_state.picked);
    // Resample patches in another text's head outputs: the compare run's, when one is open.
    if (method == core::AblationMethod::Resample && m_state.compare)
        p.referenceIds = m_state.compare.snapshot->tokens.ids;
    return p;
}

bool ViewAblationPanel::modelReady() {
    if (m_state.modelPath.empty()) {
        m_message = "Choose a model in the capture panel first.";
        return false;
    }
    m_worker.ensureLoaded(m_state.modelPath, m_worker.requestedDevice().empty() ? "cpu" : m_worker.requestedDevice());
    return true;
}

void ViewAblationPanel::startPreview() {
    if (m_preview) m_preview->cancel(); // a newer setting supersedes it
    m_preview.reset();
    if (!m_state.run || m_state.picked.empty()) {
        m_result.reset();
        return;
    }
    if (method == core::AblationMethod::Resample && !m_state.compare) {
        m_message = "A resample ablation needs a reference: open a second run with Compare.";
        return;
    }
    if (!modelReady()) return;
    m_message.clear();
    const std::vector<int32_t> ids = m_state.run.snapshot->tokens.ids;
    const core::AblationParams p = params();
    m_preview =
        m_worker.submit<AblationPreview>("ablate", [ids, p](core::Transformer& model, core::Progress& progress) {
            return runAblationPreview(model, ids, p, progress);
        });
}

bool ViewAblationPanel::startSweep() {
    if (!m_state.run) {
        m_message = "Open a run first: the sweep ablates heads on its tokens.";
        return false;
    }
    if (method == core::AblationMethod::Resample && !m_state.compare) {
        m_message = "A resample ablation needs a reference: open a second run with Compare.";
        return false;
    }
    if (!modelReady()) return false;
    cancelSweep();
    const RunSnapshot& run = *m_state.run.snapshot;
    for (auto& t : m_tables)
        t = SweepTable(run.layers(), run.heads());
    for (const char* name : kSweepMetrics)
        upsertMetric(m_state.liveMetrics, m_tables[0].metric(liveName(name)));
    m_state.metric = liveName("delta_loss");
    m_sweepRows = std::make_shared<SweepResults>();
    const std::vector<int32_t> ids = run.tokens.ids;
    core::AblationParams p = params();
    m_sweep = m_worker.submit<int>(
        "sweep", [ids, p, rows = m_sweepRows](core::Transformer& model, core::Progress& progress) mutable {
            const int64_t L = model.config().nLayers, H = model.config().nHeads;
            progress.begin("sweep", L * H);
            for (int64_t l = 0; l < L; ++l)
                for (int64_t h = 0; h < H; ++h) {
                    if (progress.cancelled()) throw core::Cancelled{};
                    p.heads = {core::HeadRef{l, h, false}};
                    const core::AblationReport r = core::runAblation(model, ids, p, nullptr);
                    {
                        std::lock_guard lock(rows->mutex);
                        rows->rows.push_back({l, h, r.set});
                    }
                    progress.advance();
                    progress.setDetail(core::formatHeadRef(p.heads[0]));
                }
            return int(L * H);
        });
    m_message.clear();
    return true;
}

void ViewAblationPanel::cancelSweep() {
    if (m_sweep) m_sweep->cancel();
}

void ViewAblationPanel::drainSweep() {
    if (!m_sweepRows) return;
    std::vector<SweepResults::Row> rows;
    {
        std::lock_guard lock(m_sweepRows->mutex);
        rows.swap(m_sweepRows->rows);
    }
    if (rows.empty()) return;
    for (const auto& r : rows)
        for (int i = 0; i < 4; ++i)
            m_tables[i].set(r.layer, r.head, core::metricValue(r.metrics, kSweepMetrics[i]));
    for (int i = 0; i < 4; ++i)
        upsertMetric(m_state.liveMetrics, m_tables[i].metric(liveName(kSweepMetrics[i])));
}

void ViewAblationPanel::update(double now) {
    const Key key{m_state.run ? m_state.run.snapshot->path : std::filesystem::path(), method, epsilon, m_state.picked};
    if (!(key == m_key)) {
        m_key = key;
        m_debounce.touch(now);
    }
    if (m_debounce.due(now)) startPreview();
    if (m_preview && m_preview->ready()) {
        auto job = std::move(m_preview);
        if (job->succeeded())
            m_result = job->take();
        else if (!job->wasCancelled())
            m_message = job->error();
    }
    drainSweep();
    if (m_sweep && m_sweep->ready()) {
        auto job = std::move(m_sweep);
        drainSweep();
        if (job->wasCancelled())
            m_message = "Sweep cancelled after " + std::to_string(m_tables[0].done()) + " heads.";
        else if (!job->succeeded())
            m_message = job->error();
        m_sweepRows.reset();
    }
}

void ViewAblationPanel::update() {
    update(ImGui::GetTime());
}

void ViewAblationPanel::drawPreview() {
    const AblationPreview& p = *m_result;
    auto piece = [&](int32_t id) {
        const auto it = p.pieces.find(id);
        return it == p.pieces.end() ? "#" + std::to_string(id) : "'" + it->second + "'";
    };
    ImGui::Text("loss %.4f -> %.4f  (Δ %+.4f nats)", p.baseLoss, p.metrics.loss, p.metrics.deltaLoss);
    ImGui::Text("KL(base || ablated) %.4g   Ships %.4g", p.metrics.kl, p.metrics.ships);
    ImGui::Text("logit of %s at the last position: %+.4f", piece(p.target).c_str(), p.metrics.logitDiff);
    drawDistributionTable(compareDistributions(p.before, p.after), piece);
}

void ViewAblationPanel::drawContent() {
    update();
    if (!m_state.run) {
        ImGui::TextUnformatted("Open a run: ablations run the model on its tokens.");
        return;
    }
    ImGui::Text("Heads: %s", m_state.picked.empty() ? "none (ctrl-click heads in the grid)"
                                                    : core::formatHeadList(headRefs(m_state.picked)).c_str());
    int m = int(method);
    ImGui::SetNextItemWidth(120);
    if (ImGui::Combo("Method", &m, kMethods, 5)) method = core::AblationMethod(m);
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("zero: head output 0; mean: its mean output; resample: the compare run's output; uniform: "
                          "q = 0; scale: q x epsilon");
    if (method == core::AblationMethod::Scale) {
        ImGui::SameLine();
        ImGui::SetNextItemWidth(120);
        float e = float(epsilon);
        if (ImGui::InputFloat("epsilon", &e, 0, 0, "%.1e")) epsilon = std::max(0.0f, e);
    }
    if (previewing()) {
        ImGui::SameLine();
        ImGui::TextDisabled(m_preview && m_preview->started() ? "running..." : "queued...");
    }
    if (m_result && !m_state.picked.empty()) drawPreview();

    ImGui::Separator();
    if (!m_sweep) {
        if (ImGui::Button("Sweep every head")) startSweep();
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("Ablate each head alone; the grid fills in as heads finish");
    } else {
        const std::string label =
            std::to_string(m_tables[0].done()) + " / " + std::to_string(m_tables[0].total()) + " heads";
        ImGui::ProgressBar(m_sweep->fraction(), ImVec2(-90, 0), label.c_str());
        ImGui::SameLine();
        if (ImGui::Button("Cancel")) cancelSweep();
    }
    if (!m_message.empty()) ImGui::TextColored(ImVec4(1.0f, 0.45f, 0.4f, 1.0f), "%s", m_message.c_str());
}

std::optional<FigureRequest> ViewAblationPanel::figureRequest() const {
    if (!m_result || !m_state.run || m_key.run != m_state.run.snapshot->path) return std::nullopt;
    const AblationPreview& p = *m_result;
    FigureRequest r;
    r.view = "ablation";
    r.run = m_key.run;
    std::string heads;
    for (const auto& [l, h] : m_key.heads)
        heads += (heads.empty() ? "" : " ") + fmt::format("L{}H{}", l, h);
    r.live.title = fmt::format("{} ablation of {}", core::ablationMethodName(m_key.method), heads);
    r.live.bars.push_back({"loss (nats)", p.baseLoss, p.metrics.loss});
    const auto target = p.pieces.find(p.target);
    r.live.facts = {{"heads", heads},
                    {"method", core::ablationMethodName(m_key.method)},
                    {"Δ loss", fmt::format("{:+.4f} nats", p.metrics.deltaLoss)},
                    {"KL(base || ablated)", fmt::format("{:.4g}", p.metrics.kl)},
                    {"Ships", fmt::format("{:.4g}", p.metrics.ships)},
                    {"target", target == p.pieces.end() ? fmt::format("#{}", p.target) : "'" + target->second + "'"},
                    {"target logit change", fmt::format("{:+.4f}", p.metrics.logitDiff)}};
    r.stem = figureStem(r.run, "ablation");
    return r;
}

} // namespace attnscope::views

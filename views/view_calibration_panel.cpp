#include "view_calibration_panel.hpp"

#include "distribution_table.hpp"

#include "capture/capture_job.hpp"
#include "heatmap_canvas.hpp"
#include "intervene/calibration_experiment.hpp"
#include "jobs/progress.hpp"
#include "model/tokenizer.hpp"
#include "runtime/transformer.hpp"
#include "tile_loader.hpp"

#include <fmt/core.h>
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <unistd.h>

namespace attnscope::views {

namespace {

constexpr int64_t kShownTokens = 8;
const char* const kSources[] = {"picked in the grid", "screened", "ACT default (layers 2..L-2)"};

std::filesystem::path temporaryRunPath(int serial) {
    return std::filesystem::temp_directory_path() /
           fmt::format("attnscope-calibration-{}-{}.attn.h5", int(::getpid()), serial);
}

} // namespace

CalibratedRun runCalibratedCapture(core::Transformer& model, const std::vector<int32_t>& ids,
                                   const core::ActCalibration& act, const std::filesystem::path& out,
                                   const std::vector<int32_t>& beforeTopIds, core::Progress& progress) {
    core::CaptureOptions o;
    o.promptIds = ids;
    o.edits.edits.push_back(act);
    o.out = out;
    core::captureRun(model, o, &progress);
    CalibratedRun r;
    r.snapshot = std::make_shared<const RunSnapshot>(loadRunSnapshot(out));
    if (model.hasTokenizer()) {
        std::set<int32_t> ids(beforeTopIds.begin(), beforeTopIds.end());
        ids.insert(r.snapshot->output.topkIds.begin(), r.snapshot->output.topkIds.end());
        for (int32_t id : ids)
            if (id >= 0 && id < model.tokenizer().vocabSize()) r.pieces.emplace(id, model.tokenizer().piece(id));
    }
    return r;
}

ViewCalibrationPanel::ViewCalibrationPanel(ExplorerState& state, ModelWorker& worker)
    : ViewBase("Calibration"), m_state(state), m_worker(worker) {}

ViewCalibrationPanel::~ViewCalibrationPanel() {
    if (m_job) m_job->cancel();
    if (m_screen) m_screen->cancel();
    m_after = {};
    std::error_code ec;
    if (!m_afterPath.empty()) std::filesystem::remove(m_afterPath, ec);
}

std::optional<core::ActCalibration> ViewCalibrationPanel::calibration() const {
    core::ActCalibration act;
    act.beta = beta;
    act.threshold = threshold;
    switch (source) {
    case HeadSource::Picked:
        if (m_state.picked.empty()) return std::nullopt;
        act.heads = headRefs(m_state.picked);
        break;
    case HeadSource::Screened:
        if (m_screened.empty()) return std::nullopt;
        act.heads = m_screened;
        break;
    case HeadSource::ActDefault:
        break; // empty: the reference's layer gate
    }
    return act;
}

bool ViewCalibrationPanel::startScreening() {
    if (!m_state.run || m_state.modelPath.empty()) {
        m_message = "Open a run and choose a model first.";
        return false;
    }
    core::TaskItem item;
    try {
        item = screeningItem(m_state.run.snapshot->tokens);
    } catch (const std::exception& e) {
        m_message = e.what();
        return false;
    }
    if (m_screen) m_screen->cancel();
    m_worker.ensureLoaded(m_state.modelPath, m_worker.requestedDevice().empty() ? "cpu" : m_worker.requestedDevice());
    core::CalibrationParams p;
    p.act.beta = beta;
    p.act.threshold = threshold;
    p.screen = true;
    m_screen = m_worker.submit<std::vector<core::HeadRef>>(
        "screen heads", [item, p](core::Transformer& model, core::Progress& progress) {
            return core::runCalibration(model, {item}, p, &progress).applied.heads;
        });
    m_message.clear();
    return true;
}

void ViewCalibrationPanel::startRun() {
    if (m_job) m_job->cancel(); // a newer setting supersedes it
    m_job.reset();
    const auto act = calibration();
    if (!m_state.run || !act) return;
    if (m_state.modelPath.empty()) {
        m_message = "Choose a model in the capture panel first.";
        return;
    }
    m_worker.ensureLoaded(m_state.modelPath, m_worker.requestedDevice().empty() ? "cpu" : m_worker.requestedDevice());
    const RunSnapshot& run = *m_state.run.snapshot;
    const std::vector<int32_t> ids = run.tokens.ids, topIds = run.output.topkIds;
    m_jobPath = temporaryRunPath(++m_serial);
    m_jobRun = run.path;
    m_job = m_worker.submit<CalibratedRun>(
        "calibrate", [ids, topIds, act = *act, out = m_jobPath](core::Transformer& model, core::Progress& progress) {
            return runCalibratedCapture(model, ids, act, out, topIds, progress);
        });
    m_message.clear();
}

void ViewCalibrationPanel::adopt(CalibratedRun result, std::filesystem::path path) {
    m_after = {}; // its loader closes the old file before it is removed
    std::error_code ec;
    if (!m_afterPath.empty() && m_afterPath != path) std::filesystem::remove(m_afterPath, ec);
    m_afterPath = std::move(path);
    m_after.snapshot = std::move(result.snapshot);
    if (showHeatmaps) m_after.tiles = std::make_shared<TileLoader>(m_afterPath);
    m_pieces = std::move(result.pieces);
}

void ViewCalibrationPanel::update(double now) {
    const Key key{m_state.run ? m_state.run.snapshot->path : std::filesystem::path(),
                  source,
                  source == HeadSource::Picked ? m_state.picked : std::vector<std::pair<int64_t, int64_t>>{},
                  source == HeadSource::Screened ? m_screened : std::vector<core::HeadRef>{},
                  beta,
                  threshold};
    if (!m_key || !(*m_key == key)) {
        if (m_key && m_key->run != key.run) { // another run: the old comparison no longer applies
            m_after = {};
            if (m_job) m_job->cancel();
        }
        m_key = key;
        m_debounce.touch(now);
    }
    if (m_debounce.due(now)) startRun();
    if (m_job && m_job->ready()) {
        auto job = std::move(m_job);
        if (job->succeeded() && m_state.run && m_state.run.snapshot->path == m_jobRun)
            adopt(job->take(), m_jobPath);
        else if (job->succeeded()) { // finished for a run no longer shown
            std::error_code ec;
            std::filesystem::remove(m_jobPath, ec);
        } else if (!job->wasCancelled())
            m_message = job->error();
    }
    if (m_screen && m_screen->ready()) {
        auto job = std::move(m_screen);
        if (job->succeeded()) {
            m_screened = job->take();
            source = HeadSource::Screened;
            m_message = m_screened.empty() ? "Screening kept no head: none lowered the loss of the text's second half "
                                             "when calibrated alone."
                                           : "";
        } else if (!job->wasCancelled()) {
            m_message = job->error();
        }
    }
}

void ViewCalibrationPanel::update() {
    update(ImGui::GetTime());
}

void ViewCalibrationPanel::drawDistribution() {
    const RunSnapshot& before = *m_state.run.snapshot;
    const RunSnapshot& after = *m_after.snapshot;
    const int64_t pos = comparePosition(before.tokenCount(), m_state.token);
    const double lossBefore = meanFinite(before.output.loss), lossAfter = meanFinite(after.output.loss);
    ImGui::Text("loss %.4f -> %.4f (Δ %+.4f nats, mean over positions)", lossBefore, lossAfter, lossAfter - lossBefore);
    const std::string at = pos >= 0 && size_t(pos) < before.tokens.pieces.size()
                               ? fmt::format("after token {} '{}'", pos, before.tokens.pieces[size_t(pos)])
                               : std::string("at the last position");
    ImGui::Text("Next token %s (click a token to choose another):", at.c_str());
    auto rows = compareDistributions(storedTopK(before.output, pos), storedTopK(after.output, pos));
    if (rows.size() > size_t(kShownTokens)) rows.resize(size_t(kShownTokens));
    drawDistributionTable(rows, [this](int32_t id) {
        const auto it = m_pieces.find(id);
        return it == m_pieces.end() ? fmt::format("#{}", id) : "'" + it->second + "'";
    });
}

void ViewCalibrationPanel::drawHeatmaps() {
    if (!m_before) {
        m_before = std::make_shared<HeatmapCanvas>();
        m_afterCanvas = std::make_shared<HeatmapCanvas>(m_before->camera());
        m_diff = std::make_shared<HeatmapCanvas>(m_before->camera());
    }
    const float w = (ImGui::GetContentRegionAvail().x - 2 * ImGui::GetStyle().ItemSpacing.x) / 3.0f;
    const float h =
        std::max(120.0f, std::min(w, ImGui::GetContentRegionAvail().y - ImGui::GetTextLineHeightWithSpacing()));
    const struct {
        const char* title;
        HeatmapCanvas* canvas;
        const OpenRun* run;
        const OpenRun* minus;
    } panes[] = {{"before", m_before.get(), &m_state.run, nullptr},
                 {"after", m_afterCanvas.get(), &m_after, nullptr},
                 {"after - before", m_diff.get(), &m_after, &m_state.run}};
    for (int i = 0; i < 3; ++i) {
        if (i > 0) ImGui::SameLine();
        ImGui::BeginGroup();
        ImGui::Text("%s, head %lld.%lld", panes[i].title, (long long)m_state.layer, (long long)m_state.head);
        ImGui::PushID(i);
        panes[i].canvas->draw(m_state, *panes[i].run, m_state.layer, m_state.head, panes[i].minus, w, h);
        ImGui::PopID();
        ImGui::EndGroup();
    }
}

void ViewCalibrationPanel::drawContent() {
    update();
    if (!m_state.run) {
        ImGui::TextUnformatted("Open a run: calibration re-runs the model on its tokens.");
        return;
    }
    int s = int(source);
    ImGui::SetNextItemWidth(220);
    if (ImGui::Combo("Heads", &s, kSources, 3)) source = HeadSource(s);
    ImGui::SameLine();
    if (m_screen) {
        ImGui::ProgressBar(m_screen->fraction(), ImVec2(160, 0), "screening");
        ImGui::SameLine();
        if (ImGui::SmallButton("Cancel")) m_screen->cancel();
    } else if (ImGui::Button("Screen")) {
        startScreening();
    }
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("Calibrate each head of layers 2..L-2 alone on this text; keep those that lower the loss "
                          "of its second half");
    if (source == HeadSource::Picked)
        ImGui::TextDisabled("%s", m_state.picked.empty() ? "No heads picked: ctrl-click heads in the grid."
                                                         : core::formatHeadList(headRefs(m_state.picked)).c_str());
    if (source == HeadSource::Screened)
        ImGui::TextDisabled("%s", m_screened.empty() ? "Not screened yet: press Screen."
                                                     : core::formatHeadList(m_screened).c_str());
    ImGui::SetNextItemWidth(200);
    ImGui::SliderFloat("β", &beta, 0.0f, 1.0f, "%.2f");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Share of its attention a sink keeps (the rest goes to other keys)");
    ImGui::SameLine();
    ImGui::SetNextItemWidth(200);
    ImGui::SliderFloat("sink threshold", &threshold, 0.0f, 0.99f, "%.3f");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("A key is a sink when its mean received attention exceeds this");
    if (running()) {
        ImGui::SameLine();
        ImGui::TextDisabled(m_job && m_job->started() ? "re-running %.0f%%" : "queued",
                            100.0 * (m_job ? m_job->fraction() : 0));
    }
    if (!m_message.empty()) ImGui::TextColored(ImVec4(1.0f, 0.45f, 0.4f, 1.0f), "%s", m_message.c_str());
    if (!m_after) return;
    drawDistribution();
    if (showHeatmaps) {
        const std::string blocker = differenceBlocker(*m_state.run.snapshot, *m_after.snapshot);
        if (blocker.empty() && m_state.run.tiles && m_after.tiles)
            drawHeatmaps();
        else if (!blocker.empty())
            ImGui::TextWrapped("%s", blocker.c_str());
    }
}

std::optional<FigureRequest> ViewCalibrationPanel::figureRequest() const {
    if (!m_after || !m_state.run) return std::nullopt;
    const RunSnapshot& before = *m_state.run.snapshot;
    const RunSnapshot& after = *m_after.snapshot;
    FigureRequest r;
    r.view = "calibration";
    r.run = before.path;
    const char* heads = source == HeadSource::Picked     ? "picked heads"
                        : source == HeadSource::Screened ? "screened heads"
                                                         : "every head of layers 2..L-2";
    r.live.title = fmt::format("ACT calibration (β {:.2f}, threshold {:.3f})", beta, threshold);
    r.live.bars.push_back(
        {"loss (nats, mean over positions)", meanFinite(before.output.loss), meanFinite(after.output.loss)});
    r.live.facts = {
        {"heads", heads}, {"β", fmt::format("{:.2f}", beta)}, {"threshold", fmt::format("{:.3f}", threshold)}};
    if (source == HeadSource::Picked) r.live.facts.push_back({"picked", std::to_string(m_state.picked.size())});
    if (source == HeadSource::Screened) r.live.facts.push_back({"screened", std::to_string(m_screened.size())});
    r.stem = figureStem(r.run, "calibration");
    return r;
}

} // namespace attnscope::views

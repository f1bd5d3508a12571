#include "figure_ablation.hpp"

#include "figure_text.hpp"

#include "errors.hpp"
#include "store/run_reader.hpp"

#include <fmt/format.h>

#include <QtGui/QFontMetricsF>
#include <QtGui/QPainter>

#include <algorithm>
#include <cmath>

namespace attnscope::figure {

namespace {

constexpr double kPanelW = 130.0, kPanelH = 170.0; // one before/after pair
constexpr double kRowPx = kFontPx * 1.7;
constexpr double kTableW = 520.0;
const QColor kBefore(165, 165, 165);

std::string text(const core::AnalysisValue* v) {
    if (!v) return {};
    if (const auto* s = std::get_if<std::string>(v)) return *s;
    if (const auto* i = std::get_if<int64_t>(v)) return std::to_string(*i);
    if (const auto* d = std::get_if<double>(v)) return fmt::format("{:.4g}", *d);
    return {};
}

double number(const core::AnalysisValue* v) {
    if (!v) return NAN;
    if (const auto* i = std::get_if<int64_t>(v)) return double(*i);
    if (const auto* d = std::get_if<double>(v)) return *d;
    return NAN;
}

double scalar(const core::AnalysisResult& a, const std::string& name) {
    const core::AnalysisDataset* d = a.dataset(name);
    const std::vector<double> v = d ? d->toDoubles() : std::vector<double>{};
    return v.size() == 1 ? v[0] : NAN;
}

bool has(const core::RunSummary& s, const std::string& name) {
    return std::find(s.analyses.begin(), s.analyses.end(), name) != s.analyses.end();
}

// The target token's piece when it occurs in the run's tokens, else its id.
std::string tokenName(core::RunReader& run, int64_t id) {
    const auto& t = run.tokens();
    for (size_t i = 0; i < t.ids.size() && i < t.pieces.size(); ++i)
        if (t.ids[i] == id) return "\"" + printablePiece(t.pieces[i]) + "\" (#" + std::to_string(id) + ")";
    return "#" + std::to_string(id);
}

struct Layout {
    double top = 0, tableY = 0, width = 0, height = 0;
};

Layout layoutOf(const AblationFigureData& d) {
    Layout l;
    l.top = kGap + kTitlePx * 1.6 + kFontPx * 1.6 + kGap;
    l.tableY = l.top + kPanelH + kFontPx * 3.4 + kGap;
    const QFontMetricsF fm(figureFont(kFontPx));
    const double titleW = QFontMetricsF(figureFont(kTitlePx)).horizontalAdvance(QString::fromStdString(d.title));
    l.width = std::ceil(
        std::max({2 * kGap + double(d.bars.size()) * (kPanelW + kGap), 2 * kGap + kTableW, 2 * kGap + titleW}));
    l.height = std::ceil(l.tableY + double(d.facts.size()) * kRowPx + kGap);
    return l;
}

} // namespace

AblationFigureData loadAblationFigure(core::RunReader& run, const AblationFigureSpec& spec) {
    const std::string file = run.path().string();
    const core::RunSummary summary = run.summary();
    AblationFigureData d;
    d.spec = spec;
    d.runName = run.path().filename().string();
    auto& s = d.spec;
    if (s.kind == ExperimentKind::Auto)
        s.kind = has(summary, "ablation") || !has(summary, "calibration") ? ExperimentKind::Ablation
                                                                          : ExperimentKind::Calibration;
    if (s.kind == ExperimentKind::Ablation && !has(summary, "ablation"))
        throw core::ArgumentError("Run file '" + file +
                                  "' holds no ablation results (/analysis/ablation): run "
                                  "`attnscope-cli ablate MODEL --text FILE --out RUN` first.");
    if (s.kind == ExperimentKind::Calibration && !has(summary, "calibration"))
        throw core::ArgumentError("Run file '" + file +
                                  "' holds no calibration results (/analysis/calibration): run "
                                  "`attnscope-cli calibrate MODEL --task FILE --out RUN` first.");
    if (s.kind == ExperimentKind::Calibration) {
        const core::AnalysisResult a = run.analysis("calibration");
        const core::AnalysisDataset *before = a.dataset("before"), *after = a.dataset("after");
        if (!before || !after || before->count() != 3 || after->count() != 3)
            throw core::FormatError("Run file '" + file + "' has no before/after in /analysis/calibration.");
        const std::vector<double> b = before->toDoubles(), f = after->toDoubles();
        d.bars = {{"loss", b[0], f[0]}, {"accuracy", b[1], f[1]}, {"KL(base || calibrated)", b[2], f[2]}};
        d.title = d.runName + " \u00b7 ACT calibration, before and after";
        d.facts = {
            {"heads calibrated", text(a.parameter("heads"))},
            {"beta (share a sink keeps)", text(a.parameter("beta"))},
            {"sink threshold", text(a.parameter("threshold"))},
            {"task items, answer tokens", text(a.parameter("items")) + ", " + text(a.parameter("answer_tokens"))}};
        if (const core::AnalysisDataset* screen = a.dataset("screen"); screen && screen->shape.size() == 2) {
            const std::vector<double> rows = screen->toDoubles();
            int64_t kept = 0;
            for (int64_t r = 0; r < screen->shape[0]; ++r)
                kept += rows[size_t(r * 5 + 4)] > 0.5;
            d.facts.emplace_back("heads screened, kept",
                                 std::to_string(screen->shape[0]) + ", " + std::to_string(kept));
        }
        return d;
    }
    const core::AnalysisResult a = run.analysis("ablation");
    const std::string method = text(a.parameter("method"));
    d.sweep = number(a.parameter("sweep")) == 1.0;
    const double baseLoss = number(a.parameter("base_loss"));
    if (d.sweep) {
        const std::vector<std::string> metrics{"delta_loss", "kl", "ships", "logit_diff"};
        if (std::find(metrics.begin(), metrics.end(), s.metric) == metrics.end())
            throw core::ArgumentError("Unknown ablation metric '" + s.metric +
                                      "': use delta_loss, kl, ships or logit_diff.");
        d.grid = loadHeadGrid(run, "ablation/" + s.metric, s.colormap);
        d.grid.numbers = true;
        d.title = d.grid.title = fmt::format("{} \u00b7 {} ablation of each head alone \u00b7 {} (base loss {:.4f})",
                                             d.runName, method, s.metric, baseLoss);
        return d;
    }
    const double delta = scalar(a, "delta_loss");
    d.bars = {{"loss", baseLoss, baseLoss + delta}};
    d.title = d.runName + " \u00b7 " + method + " ablation of " + text(a.parameter("heads"));
    d.facts = {{"heads ablated together", text(a.parameter("heads"))},
               {"method", method},
               {"tokens", text(a.parameter("tokens"))},
               {"delta loss", fmt::format("{:+.5f}", delta)},
               {"KL(base || ablated), mean over positions", fmt::format("{:.5f}", scalar(a, "kl"))},
               {"Ships (KL at the last position)", fmt::format("{:.5f}", scalar(a, "ships"))},
               {"target token", tokenName(run, int64_t(number(a.parameter("target"))))},
               {"target logit change", fmt::format("{:+.4f}", scalar(a, "logit_diff"))}};
    if (const core::AnalysisDataset* ci = a.dataset("random_k_ci95"); ci && ci->count() == 3) {
        const std::vector<double> c = ci->toDoubles();
        d.facts.emplace_back("top " + text(a.parameter("top_k")) + " by " + text(a.parameter("rank_by")) + " (" +
                                 text(a.parameter("top_heads")) + ")",
                             fmt::format("{:.5f}", scalar(a, "top_k_value")));
        d.facts.emplace_back("random heads: mean [95 % interval]",
                             fmt::format("{:.5f} [{:.5f}, {:.5f}]", c[0], c[1], c[2]));
    }
    return d;
}

QSizeF ablationFigureSize(const AblationFigureData& data) {
    if (data.sweep) return headGridFigureSize(data.grid);
    ensureFigureFonts();
    const Layout l = layoutOf(data);
    return {l.width, l.height};
}

QRectF ablationBarRect(const AblationFigureData& d, size_t bar, int which) {
    const Layout l = layoutOf(d);
    const BeforeAfter& b = d.bars.at(bar);
    const double top = std::max({std::abs(b.before), std::abs(b.after), 1e-12}) * 1.15;
    const double v = std::max(0.0, which == 0 ? b.before : b.after);
    const double x0 = kGap + double(bar) * (kPanelW + kGap);
    const double plotTop = l.top + kFontPx * 1.6, plotH = kPanelH - kFontPx * 1.6;
    const double barW = (kPanelW - 3 * kGap) / 2;
    const double h = plotH * v / top;
    return {x0 + kGap + double(which) * (barW + kGap), plotTop + plotH - h, barW, h};
}

void paintAblationFigure(QPainter& p, const AblationFigureData& d) {
    if (d.sweep) {
        paintHeadGrid(p, d.grid);
        return;
    }
    const Layout l = layoutOf(d);
    const QFont font = figureFont(kFontPx);
    p.setPen(Qt::black);
    p.setFont(figureFont(kTitlePx));
    p.drawText(QRectF(kGap, kGap, l.width - 2 * kGap, kTitlePx * 1.4), Qt::AlignLeft | Qt::AlignVCenter,
               QString::fromStdString(d.title));
    p.setFont(font);
    p.drawText(QRectF(kGap, kGap + kTitlePx * 1.6, l.width - 2 * kGap, kFontPx * 1.4), Qt::AlignLeft | Qt::AlignVCenter,
               "grey: before (the unedited model) \u00b7 colour: after");
    const auto after = views::colormapRgb8(d.spec.colormap, 0.35f);
    for (size_t i = 0; i < d.bars.size(); ++i) {
        const BeforeAfter& b = d.bars[i];
        const double x0 = kGap + double(i) * (kPanelW + kGap);
        p.setPen(Qt::black);
        p.drawText(QRectF(x0, l.top, kPanelW, kFontPx * 1.4), Qt::AlignCenter, QString::fromStdString(b.name));
        const double baseY = l.top + kPanelH;
        for (int which = 0; which < 2; ++which) {
            const QRectF r = ablationBarRect(d, i, which);
            p.fillRect(r, which == 0 ? kBefore : QColor(after[0], after[1], after[2]));
            const double v = which == 0 ? b.before : b.after;
            p.drawText(QRectF(r.left() - kGap, r.top() - kFontPx * 1.5, r.width() + 2 * kGap, kFontPx * 1.4),
                       Qt::AlignCenter, QString::number(v, 'g', 4));
            p.drawText(QRectF(r.left() - kGap, baseY + 2, r.width() + 2 * kGap, kFontPx * 1.4), Qt::AlignCenter,
                       which == 0 ? "before" : "after");
        }
        p.setPen(QPen(Qt::black, 0.8));
        p.drawLine(QPointF(x0 + 2, baseY), QPointF(x0 + kPanelW - 2, baseY));
    }
    // The edit and its measures.
    for (size_t i = 0; i < d.facts.size(); ++i) {
        const double y = l.tableY + double(i) * kRowPx;
        if (i % 2 == 0) p.fillRect(QRectF(kGap, y, l.width - 2 * kGap, kRowPx), QColor(245, 245, 245));
        p.drawText(QRectF(kGap + 4, y, kTableW * 0.6, kRowPx), Qt::AlignLeft | Qt::AlignVCenter,
                   elided(font, d.facts[i].first, kTableW * 0.6 - 8));
        p.drawText(QRectF(kGap + kTableW * 0.6, y, l.width - kTableW * 0.6 - 2 * kGap, kRowPx),
                   Qt::AlignLeft | Qt::AlignVCenter,
                   elided(font, d.facts[i].second, l.width - kTableW * 0.6 - 2 * kGap - 4));
    }
}

} // namespace attnscope::figure

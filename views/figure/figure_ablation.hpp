#pragma once
// Ablation and calibration results of a run as paper figures (methods.md §5.1, §6.1): a sweep (`ablate --sweep`) as
// a layer x head grid of one metric with the numbers in the cells; a single edit (`ablate --heads`) or an ACT
// calibration (`calibrate --out`) as before/after bars (loss; accuracy and KL for calibration) with a table of the
// edit and its other measures. Reads /analysis/ablation and /analysis/calibration.
// Thread: the caller's (RunReader is one per thread); painting needs a QGuiApplication (ensureFigureApplication()).
#include "colormap_path.hpp"
#include "figure_head_grid.hpp"

#include <QtCore/QRectF>
#include <QtCore/QSizeF>

#include <string>
#include <utility>
#include <vector>

class QPainter;

namespace attnscope::core {
class RunReader;
}

namespace attnscope::figure {

enum class ExperimentKind { Auto, Ablation, Calibration }; // Auto: ablation when the run has one, else calibration

struct AblationFigureSpec {
    ExperimentKind kind = ExperimentKind::Auto;
    std::string metric = "delta_loss"; // sweep grid: delta_loss, kl, ships or logit_diff
    views::Colormap colormap = views::Colormap::Viridis;
};

struct BeforeAfter {
    std::string name;
    double before = 0, after = 0;
};

struct AblationFigureData {
    AblationFigureSpec spec; // kind resolved
    std::string runName, title;
    bool sweep = false;
    HeadGridData grid;                                      // sweep: the per-head metric
    std::vector<BeforeAfter> bars;                          // single edit or calibration
    std::vector<std::pair<std::string, std::string>> facts; // the edit and its other measures, as table rows
};

// Throws core::ArgumentError (one sentence naming the run) when it holds no such result or the metric is unknown.
AblationFigureData loadAblationFigure(core::RunReader& run, const AblationFigureSpec& spec);

QSizeF ablationFigureSize(const AblationFigureData& data);
// Bar b's before (0) or after (1) rectangle, in logical pixels (single edit and calibration).
QRectF ablationBarRect(const AblationFigureData& data, size_t bar, int which);
void paintAblationFigure(QPainter& painter, const AblationFigureData& data);

} // namespace attnscope::figure

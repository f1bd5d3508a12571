#pragma once
// The sentence x sentence matrix of a reasoning trace as a paper figure (Thought Anchors, methods.md §8): rows are
// attending sentences, columns attended ones (lower triangle), coloured over the off-diagonal range as on screen, with
// sentence indices on the axes and, where rows are tall enough, each sentence's text beside its row with the
// receiver heads' broadcast score and a published importance score (import-scores --kind thought-anchors).
// Thread: the caller's (RunReader is one per thread); painting needs a QGuiApplication (ensureFigureApplication()).
#include "colormap_path.hpp"

#include <QtCore/QRectF>
#include <QtCore/QSizeF>

#include <cstdint>
#include <string>
#include <vector>

class QPainter;

namespace attnscope::core {
class RunReader;
}

namespace attnscope::figure {

// Attention: /analysis/anchors' [L,H,N,N] matrices (one head, or the mean of the receiver heads); Suppression:
// /analysis/anchors_suppression (ln KL); Published: anchors_published's step_importance, transposed to row = later
// sentence; Auto: Attention when the run has anchors, else Published.
enum class SentenceMatrix { Auto, Attention, Suppression, Published };

// "attention", "suppression", "published" (empty: Auto); throws core::ArgumentError naming the value otherwise.
SentenceMatrix sentenceMatrixFromName(const std::string& name);

struct SentenceFigureSpec {
    SentenceMatrix matrix = SentenceMatrix::Auto;
    int64_t layer = -1, head = -1; // Attention: one head; -1: the mean over the receiver heads
    std::string score;             // published per-sentence field beside the rows; empty: counterfactual_importance_kl
    views::Colormap colormap = views::Colormap::Viridis;
    double clipMax = 0.0; // top of the colour bar (0: the largest off-diagonal value)
};

struct SentenceFigureData {
    SentenceFigureSpec spec; // matrix resolved
    std::string runName, matrixName;
    std::string rowAxis = "attending sentence", columnAxis = "attended sentence";
    int64_t n = 0;
    std::vector<float> matrix; // [n][n], row attends to column; NaN where there is no value
    std::vector<std::string> texts;
    std::vector<double> broadcast; // [n] the receiver heads' score per sentence; empty when not shown
    std::vector<double> score;     // [n] the published score; empty when not shown
    std::string scoreName, note;   // note: why published scores are missing, or empty
    double vmin = 0, vmax = 1;
    bool clipped = false;
};

// Throws core::ArgumentError (one sentence naming the run) when the run lacks the analysis the matrix needs, or for a
// layer, head or score field outside it.
SentenceFigureData loadSentenceFigure(core::RunReader& run, const SentenceFigureSpec& spec);
// Colour-bar position in [0, 1] of a cell value.
double sentencePosition(const SentenceFigureData& data, double value);

QSizeF sentenceFigureSize(const SentenceFigureData& data);
QRectF sentencePlotRect(const SentenceFigureData& data); // cell (i, j) is the (i, j)-th of n x n squares
void paintSentenceFigure(QPainter& painter, const SentenceFigureData& data);

} // namespace attnscope::figure

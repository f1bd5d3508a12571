#include "figure_sentences.hpp"

#include "figure_colour_bar.hpp"
#include "figure_text.hpp"

#include "errors.hpp"
#include "store/run_reader.hpp"

#include <QtGui/QFontMetricsF>
#include <QtGui/QPainter>

#include <algorithm>
#include <cmath>

namespace attnscope::figure {

namespace {

constexpr double kScoreBarPx = 60.0; // width of the broadcast / published score bars beside the rows
constexpr double kTextPx = 380.0;    // sentence text beside the rows, elided past this
constexpr double kMinRowPx = 9.0;    // rows shorter than this get no text
const QColor kNoValue(235, 235, 235);

struct Layout {
    double cell = 0, left = 0, top = 0, plot = 0, barX = 0, sideX = 0, width = 0, height = 0;
    bool side = false;
};

Layout layoutOf(const SentenceFigureData& d) {
    Layout l;
    const QFontMetricsF fm(figureFont(kFontPx));
    // Up to 80 sentences keep rows tall enough for their text beside them.
    l.cell = std::clamp(480.0 / double(std::max<int64_t>(d.n, 1)), d.n <= 80 ? 11.0 : 4.0, 28.0);
    l.plot = l.cell * double(d.n);
    l.left = kGap + kFontPx * 1.6 + fm.horizontalAdvance("000") + kGap;
    l.top = kGap + kTitlePx * 1.6 + kFontPx * 3.2 + kGap; // title, matrix name, column headers
    l.barX = l.left + std::max(l.plot, 160.0) + 2 * kGap;
    const double tickW = fm.horizontalAdvance("\u2265-0.000e-00");
    l.side = l.cell >= kMinRowPx;
    l.sideX = l.barX + kBarPx + 6 + tickW + 2 * kGap;
    const double bars = (d.broadcast.empty() ? 0 : kScoreBarPx + kGap) + (d.score.empty() ? 0 : kScoreBarPx + kGap);
    l.width = std::ceil(l.side ? l.sideX + fm.horizontalAdvance("000") + kGap + bars + kTextPx + kGap
                               : l.barX + kBarPx + 6 + tickW + kGap);
    l.height = std::ceil(l.top + std::max(l.plot, 160.0) + kFontPx * 3.4 + kGap + (d.note.empty() ? 0 : kFontPx * 1.6) +
                         (l.side && !(d.broadcast.empty() && d.score.empty()) ? kFontPx * 1.6 : 0));
    return l;
}

std::vector<double> doubles(const core::AnalysisResult& a, const std::string& name, const std::string& file) {
    const core::AnalysisDataset* d = a.dataset(name);
    if (!d) throw core::FormatError("Run file '" + file + "' has no dataset " + name + " in /analysis/" + a.name + ".");
    return d->toDoubles();
}

std::vector<std::string> strings(const core::AnalysisResult& a, const std::string& file) {
    const core::AnalysisDataset* d = a.dataset("sentence_text");
    const auto* v = d ? std::get_if<std::vector<std::string>>(&d->values) : nullptr;
    if (!v) throw core::FormatError("Run file '" + file + "' has no sentence_text in /analysis/" + a.name + ".");
    return *v;
}

bool has(const core::RunSummary& s, const std::string& name) {
    return std::find(s.analyses.begin(), s.analyses.end(), name) != s.analyses.end();
}

} // namespace

SentenceMatrix sentenceMatrixFromName(const std::string& name) {
    if (name.empty()) return SentenceMatrix::Auto;
    if (name == "attention") return SentenceMatrix::Attention;
    if (name == "suppression") return SentenceMatrix::Suppression;
    if (name == "published") return SentenceMatrix::Published;
    throw core::ArgumentError("Unknown sentence matrix '" + name + "': use attention, suppression or published.");
}

SentenceFigureData loadSentenceFigure(core::RunReader& run, const SentenceFigureSpec& spec) {
    const std::string file = run.path().string();
    const core::RunSummary summary = run.summary();
    const bool anchors = has(summary, "anchors"), published = has(summary, "anchors_published");
    SentenceFigureData d;
    d.spec = spec;
    d.runName = run.path().filename().string();
    auto& s = d.spec;
    if (s.matrix == SentenceMatrix::Auto)
        s.matrix = anchors || !published ? SentenceMatrix::Attention : SentenceMatrix::Published;
    const char* needed = s.matrix == SentenceMatrix::Published     ? "anchors_published"
                         : s.matrix == SentenceMatrix::Suppression ? "anchors_suppression"
                                                                   : "anchors";
    if (!has(summary, needed))
        throw core::ArgumentError("Run file '" + file + "' has no /analysis/" + needed + " for a sentence figure: " +
                                  (s.matrix == SentenceMatrix::Published
                                       ? "import it with `attnscope-cli import-scores RUN FOLDER --kind "
                                         "thought-anchors`."
                                       : "compute it with `attnscope-cli anchors RUN`."));
    if (!(s.clipMax >= 0.0) || !std::isfinite(s.clipMax))
        throw core::ArgumentError("The clipping maximum must be a positive number, not " + std::to_string(s.clipMax) +
                                  ".");
    if (s.matrix == SentenceMatrix::Published) {
        const core::AnalysisResult a = run.analysis("anchors_published");
        d.texts = strings(a, file);
        d.n = int64_t(d.texts.size());
        const std::vector<double> m = doubles(a, "step_importance", file); // [source][target]
        if (m.size() != size_t(d.n * d.n))
            throw core::FormatError("Run file '" + file + "' has a step_importance that is not N x N.");
        d.matrix.assign(size_t(d.n * d.n), NAN);
        for (int64_t i = 0; i < d.n; ++i)
            for (int64_t j = 0; j < i; ++j)
                d.matrix[size_t(i * d.n + j)] = float(m[size_t(j * d.n + i)]);
        d.matrixName = "published step importance (source column -> target row)";
        d.rowAxis = "target sentence", d.columnAxis = "source sentence";
    } else {
        const core::AnalysisResult a = run.analysis("anchors");
        d.texts = strings(a, file);
        d.n = int64_t(d.texts.size());
        d.broadcast = doubles(a, "broadcast", file);
        if (s.matrix == SentenceMatrix::Suppression) {
            const std::vector<double> m = doubles(run.analysis("anchors_suppression"), "matrix", file);
            if (m.size() != size_t(d.n * d.n))
                throw core::FormatError("Run file '" + file + "' has a suppression matrix of another size than its " +
                                        std::to_string(d.n) + " sentences.");
            d.matrix.assign(m.begin(), m.end());
            d.matrixName = "attention suppression, ln KL (suppressed column -> affected row)";
            d.rowAxis = "affected sentence", d.columnAxis = "suppressed sentence";
        } else {
            const core::AnalysisDataset* m = a.dataset("matrix");
            if (!m || m->shape.size() != 4 || m->shape[2] != d.n || m->shape[3] != d.n)
                throw core::FormatError("Run file '" + file + "' has no [L,H,N,N] matrix in /analysis/anchors.");
            const int64_t L = m->shape[0], H = m->shape[1];
            const std::vector<double> all = m->toDoubles();
            std::vector<std::pair<int64_t, int64_t>> heads;
            if (s.layer >= 0 || s.head >= 0) {
                if (s.layer < 0 || s.layer >= L || s.head < 0 || s.head >= H)
                    throw core::ArgumentError("Run file '" + file + "' has layers 0 to " + std::to_string(L - 1) +
                                              " and heads 0 to " + std::to_string(H - 1) + ", not layer " +
                                              std::to_string(s.layer) + ", head " + std::to_string(s.head) + ".");
                heads.emplace_back(s.layer, s.head);
                d.matrixName =
                    "sentence attention of layer " + std::to_string(s.layer) + ", head " + std::to_string(s.head);
            } else {
                const std::vector<double> r = doubles(a, "receiver_heads", file);
                for (size_t i = 0; i + 1 < r.size(); i += 2)
                    heads.emplace_back(int64_t(r[i]), int64_t(r[i + 1]));
                d.matrixName = "sentence attention, mean of " + std::to_string(heads.size()) + " receiver heads";
            }
            // Mean over the heads, NaN ignored (NaN where every head is NaN).
            d.matrix.assign(size_t(d.n * d.n), NAN);
            for (int64_t c = 0; c < d.n * d.n; ++c) {
                double sum = 0;
                int64_t count = 0;
                for (const auto& [l, h] : heads)
                    if (const double v = all[size_t((l * H + h) * d.n * d.n + c)]; std::isfinite(v)) sum += v, ++count;
                if (count > 0) d.matrix[size_t(c)] = float(sum / double(count));
            }
        }
        if (d.broadcast.size() != size_t(d.n)) d.broadcast.clear();
    }
    // The published per-sentence score, when its chunks are this run's sentences.
    if (published) {
        const core::AnalysisResult p = run.analysis("anchors_published");
        const std::string field = s.score.empty() ? "counterfactual_importance_kl" : s.score;
        const core::AnalysisDataset* ds = p.dataset(field);
        if (!ds || ds->shape.size() != 1 || ds->dtypeName() == std::string("string")) {
            if (!s.score.empty())
                throw core::ArgumentError("Run file '" + file + "' has no published per-sentence score '" + field +
                                          "' in /analysis/anchors_published.");
        } else if (ds->count() != d.n) {
            d.note = "published scores not shown: " + std::to_string(ds->count()) + " published chunks, " +
                     std::to_string(d.n) + " sentences here";
        } else {
            d.score = ds->toDoubles();
            d.scoreName = field;
        }
    } else if (!s.score.empty()) {
        throw core::ArgumentError("Run file '" + file +
                                  "' has no published scores (/analysis/anchors_published) to "
                                  "show '" +
                                  s.score + "'.");
    }
    // The range leaves the diagonal out, as on screen: a sentence's attention to itself dwarfs its links.
    bool any = false;
    double lo = 0, hi = 0;
    for (int64_t i = 0; i < d.n; ++i)
        for (int64_t j = 0; j < i || (d.n == 1 && j == 0); ++j)
            if (const double v = d.matrix[size_t(i * d.n + j)]; std::isfinite(v)) {
                lo = any ? std::min(lo, v) : v, hi = any ? std::max(hi, v) : v;
                any = true;
            }
    d.vmin = s.matrix == SentenceMatrix::Suppression ? lo : std::min(lo, 0.0);
    d.vmax = s.clipMax > 0 ? s.clipMax : (hi > d.vmin ? hi : d.vmin + 1.0);
    for (int64_t i = 0; i < d.n; ++i)
        for (int64_t j = 0; j <= i; ++j)
            d.clipped = d.clipped || d.matrix[size_t(i * d.n + j)] > d.vmax; // the diagonal often is
    return d;
}

double sentencePosition(const SentenceFigureData& d, double v) {
    return std::clamp((v - d.vmin) / (d.vmax - d.vmin), 0.0, 1.0);
}

QSizeF sentenceFigureSize(const SentenceFigureData& data) {
    ensureFigureFonts();
    const Layout l = layoutOf(data);
    return {l.width, l.height};
}

QRectF sentencePlotRect(const SentenceFigureData& data) {
    ensureFigureFonts();
    const Layout l = layoutOf(data);
    return {l.left, l.top, l.plot, l.plot};
}

void paintSentenceFigure(QPainter& p, const SentenceFigureData& d) {
    const Layout l = layoutOf(d);
    const QFont font = figureFont(kFontPx);
    const QFontMetricsF fm(font);
    p.setPen(Qt::black);
    p.setFont(figureFont(kTitlePx));
    p.drawText(QRectF(kGap, kGap, l.width - 2 * kGap, kTitlePx * 1.4), Qt::AlignLeft | Qt::AlignVCenter,
               QString::fromStdString(d.runName + " \u00b7 " + std::to_string(d.n) + " sentences"));
    p.setFont(font);
    p.drawText(QRectF(kGap, kGap + kTitlePx * 1.6, l.width - 2 * kGap, kFontPx * 1.4), Qt::AlignLeft | Qt::AlignVCenter,
               QString::fromStdString(d.matrixName));

    // Cells: the lower triangle with the diagonal; above it nothing attends (light grey).
    p.setRenderHint(QPainter::Antialiasing, false);
    for (int64_t i = 0; i < d.n; ++i)
        for (int64_t j = 0; j < d.n; ++j) {
            const double v = d.matrix[size_t(i * d.n + j)];
            QColor c = kNoValue;
            if (j <= i && std::isfinite(v)) {
                const auto rgb = views::colormapRgb8(d.spec.colormap, float(sentencePosition(d, v)));
                c = QColor(rgb[0], rgb[1], rgb[2]);
            }
            p.fillRect(QRectF(l.left + double(j) * l.cell, l.top + double(i) * l.cell, l.cell, l.cell), c);
        }
    p.setRenderHint(QPainter::Antialiasing, true);
    p.setPen(QPen(Qt::black, 0.8));
    p.setBrush(Qt::NoBrush);
    p.drawRect(QRectF(l.left, l.top, l.plot, l.plot));

    // Sentence indices every stride-th row and column, so that they never overlap.
    const int64_t stride = std::max<int64_t>(1, int64_t(std::ceil((fm.horizontalAdvance("00") + 4) / l.cell)));
    for (int64_t i = 0; i < d.n; i += stride) {
        p.drawText(QRectF(l.left - kGap - 60, l.top + (double(i) + 0.5) * l.cell - kFontPx, 60, 2 * kFontPx),
                   Qt::AlignRight | Qt::AlignVCenter, QString::number(i));
        p.drawText(QRectF(l.left + (double(i) + 0.5) * l.cell - 30, l.top + l.plot + 2, 60, kFontPx * 1.6),
                   Qt::AlignCenter, QString::number(i));
    }
    p.drawText(QRectF(l.left, l.top + l.plot + kFontPx * 1.7, std::max(l.plot, 160.0), kFontPx * 1.6),
               Qt::AlignHCenter | Qt::AlignVCenter, QString::fromStdString(d.columnAxis));
    p.save();
    p.translate(kGap + kFontPx * 0.7, l.top + l.plot / 2);
    p.rotate(-90);
    p.drawText(QRectF(-150, -kFontPx * 0.7, 300, kFontPx * 1.4), Qt::AlignCenter, QString::fromStdString(d.rowAxis));
    p.restore();

    // Colour bar over the off-diagonal range.
    const double barH = std::max(l.plot, 160.0);
    drawColourGradient(p, d.spec.colormap, QRectF(l.barX, l.top, kBarPx, barH));
    for (int i = 0; i <= 4; ++i) {
        const double v = d.vmin + (d.vmax - d.vmin) * i / 4.0;
        const double y = l.top + barH * (1.0 - i / 4.0);
        p.drawLine(QPointF(l.barX + kBarPx, y), QPointF(l.barX + kBarPx + 4, y));
        QString text = QString::number(v, 'g', 3);
        if (i == 4 && d.clipped) text = QString::fromUtf8("\u2265") + text;
        p.drawText(QRectF(l.barX + kBarPx + 6, y - kFontPx, 200, 2 * kFontPx), Qt::AlignLeft | Qt::AlignVCenter, text);
    }
    double y = l.top + std::max(l.plot, 160.0) + kFontPx * 3.4;
    if (!d.note.empty()) {
        p.drawText(QRectF(kGap, y, l.width - 2 * kGap, kFontPx * 1.4), Qt::AlignLeft | Qt::AlignVCenter,
                   QString::fromStdString(d.note));
        y += kFontPx * 1.6;
    }
    if (!l.side) return;
    std::string legend;
    if (!d.broadcast.empty()) legend = "grey bars: broadcast (the receiver heads' attention to the sentence)";
    if (!d.score.empty()) legend += (legend.empty() ? "" : "; ") + std::string("orange bars: published ") + d.scoreName;
    if (!legend.empty())
        p.drawText(QRectF(kGap, y, l.width - 2 * kGap, kFontPx * 1.4), Qt::AlignLeft | Qt::AlignVCenter,
                   QString::fromStdString(legend + " (each scaled by its largest value)"));

    // Beside each row: its index, score bars (each scaled by its largest value), its text.
    auto maxOf = [](const std::vector<double>& v) {
        double m = 0;
        for (double x : v)
            if (std::isfinite(x)) m = std::max(m, x);
        return m > 0 ? m : 1.0;
    };
    double x = l.sideX + fm.horizontalAdvance("000") + kGap;
    struct Column {
        const std::vector<double>* values;
        std::string name;
        QColor colour;
    };
    std::vector<Column> columns;
    if (!d.broadcast.empty()) columns.push_back({&d.broadcast, "broadcast", QColor(90, 90, 90)});
    if (!d.score.empty()) columns.push_back({&d.score, d.scoreName, QColor(200, 90, 30)});
    const double headerY = l.top - kFontPx * 1.6;
    for (const Column& c : columns) {
        const double m = maxOf(*c.values);
        p.drawText(QRectF(x, headerY, kScoreBarPx + kGap, kFontPx * 1.4), Qt::AlignLeft | Qt::AlignVCenter,
                   elided(font, c.name, kScoreBarPx + kGap));
        for (int64_t i = 0; i < d.n; ++i) {
            const double v = (*c.values)[size_t(i)];
            if (!std::isfinite(v) || v <= 0) continue;
            p.fillRect(QRectF(x, l.top + double(i) * l.cell + l.cell * 0.2, kScoreBarPx * v / m, l.cell * 0.6),
                       c.colour);
        }
        x += kScoreBarPx + kGap;
    }
    p.setPen(Qt::black);
    p.drawText(QRectF(x, headerY, kTextPx, kFontPx * 1.4), Qt::AlignLeft | Qt::AlignVCenter, "sentence");
    for (int64_t i = 0; i < d.n; ++i) {
        const double rowY = l.top + (double(i) + 0.5) * l.cell;
        p.drawText(QRectF(l.sideX, rowY - kFontPx, fm.horizontalAdvance("000"), 2 * kFontPx),
                   Qt::AlignRight | Qt::AlignVCenter, QString::number(i));
        p.drawText(QRectF(x, rowY - kFontPx, kTextPx, 2 * kFontPx), Qt::AlignLeft | Qt::AlignVCenter,
                   elided(font, printablePiece(d.texts[size_t(i)]), kTextPx));
    }
}

} // namespace attnscope::figure

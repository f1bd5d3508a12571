#include "figure_retrieval.hpp"

#include "figure_text.hpp"

#include "errors.hpp"

#include <QtGui/QFontMetricsF>
#include <QtGui/QImage>
#include <QtGui/QPainter>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>

namespace attnscope::figure {

namespace {

struct Layout {
    double cellW = 0, cellH = 0, left = 0, top = 0, plotW = 0, plotH = 0, barX = 0, width = 0, height = 0;
};

std::string subtitle(const RetrievalFigureData& d) {
    return std::to_string(d.needles) + " needles; cells: " +
           (d.spec.measure == RetrievalMeasure::Kept ? "share of needles answered (ROUGE-1 recall > 0.5)"
                                                     : "mean ROUGE-1 recall of the answers") +
           "; " + std::to_string(d.kept) + " of " + std::to_string(d.total) + " tests kept";
}

Layout layoutOf(const RetrievalFigureData& d) {
    Layout l;
    const QFontMetricsF fm(figureFont(kFontPx));
    l.cellW = std::clamp(640.0 / double(std::max<size_t>(d.lengths.size(), 1)), 30.0, 64.0);
    l.cellH = std::clamp(400.0 / double(std::max<size_t>(d.depths.size(), 1)), 20.0, 40.0);
    l.plotW = l.cellW * double(d.lengths.size());
    l.plotH = l.cellH * double(d.depths.size());
    l.left = kGap + kFontPx * 1.6 + fm.horizontalAdvance("100 %") + kGap;
    l.top = kGap + kTitlePx * 1.6 + kFontPx * 1.6 + kGap;
    l.barX = l.left + std::max(l.plotW, 160.0) + 2 * kGap;
    l.width = std::ceil(std::max(l.barX + kBarPx + 6 + fm.horizontalAdvance("0.00") + kGap,
                                 2 * kGap + fm.horizontalAdvance(QString::fromStdString(subtitle(d)))));
    l.height = std::ceil(l.top + std::max(l.plotH, 120.0) + kFontPx * 3.6 + kGap);
    return l;
}

[[noreturn]] void malformed(const std::filesystem::path& file, const std::string& problem) {
    throw core::FormatError("File '" + file.string() +
                            "' is not a retrieval result of `attnscope-cli retrieval`: " + problem + ".");
}

} // namespace

RetrievalMeasure retrievalMeasureFromName(const std::string& name) {
    if (name.empty() || name == "recall") return RetrievalMeasure::Recall;
    if (name == "kept") return RetrievalMeasure::Kept;
    throw core::ArgumentError("Unknown retrieval measure '" + name + "': use recall or kept.");
}

RetrievalFigureData loadRetrievalFigure(const std::filesystem::path& file, const RetrievalFigureSpec& spec) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw core::FileError("Cannot read the retrieval result '" + file.string() + "'.");
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception&) {
        malformed(file, "it is not JSON");
    }
    RetrievalFigureData d;
    d.spec = spec;
    d.fileName = file.filename().string();
    try {
        if (!j.is_object() || !j.contains("success_table")) malformed(file, "it has no success_table");
        const auto& t = j.at("success_table");
        d.lengths = t.at("lengths").get<std::vector<int64_t>>();
        d.depths = t.at("depths").get<std::vector<int64_t>>();
        const auto recall = t.at("rouge1_recall").get<std::vector<std::vector<std::vector<double>>>>();
        const auto kept = t.at("kept").get<std::vector<std::vector<std::vector<bool>>>>();
        d.model = j.value("model", std::string());
        d.kept = j.value("kept_tests", int64_t(0));
        d.total = j.value("total_tests", int64_t(0));
        d.needles = int64_t(recall.size());
        const size_t L = d.lengths.size(), D = d.depths.size();
        if (d.needles == 0 || L == 0 || D == 0) malformed(file, "its success table is empty");
        if (kept.size() != recall.size()) malformed(file, "recall and kept cover different needles");
        d.values.assign(D * L, 0.0);
        d.keptCount.assign(D * L, 0);
        for (size_t n = 0; n < recall.size(); ++n) {
            if (recall[n].size() != L || kept[n].size() != L) malformed(file, "a needle's table is not lengths long");
            for (size_t li = 0; li < L; ++li) {
                if (recall[n][li].size() != D || kept[n][li].size() != D)
                    malformed(file, "a length's row is not depths long");
                for (size_t di = 0; di < D; ++di) {
                    d.keptCount[di * L + li] += kept[n][li][di];
                    d.values[di * L + li] +=
                        (spec.measure == RetrievalMeasure::Kept ? double(kept[n][li][di]) : recall[n][li][di]) /
                        double(d.needles);
                }
            }
        }
    } catch (const nlohmann::json::exception&) {
        malformed(file, "its success_table does not have the lengths, depths, rouge1_recall and kept it needs");
    }
    return d;
}

std::array<int, 3> retrievalColour(double v) {
    v = std::clamp(std::isfinite(v) ? v : 0.0, 0.0, 1.0);
    // ColorBrewer's RdYlGn end and middle colours, interpolated in sRGB.
    static constexpr std::array<std::array<double, 3>, 3> kStops{{{215, 48, 39}, {254, 224, 139}, {26, 152, 80}}};
    const size_t i = v < 0.5 ? 0 : 1;
    const double t = v < 0.5 ? v * 2 : (v - 0.5) * 2;
    std::array<int, 3> c{};
    for (size_t k = 0; k < 3; ++k)
        c[k] = int(std::lround(kStops[i][k] + (kStops[i + 1][k] - kStops[i][k]) * t));
    return c;
}

QSizeF retrievalFigureSize(const RetrievalFigureData& data) {
    ensureFigureFonts();
    const Layout l = layoutOf(data);
    return {l.width, l.height};
}

QRectF retrievalCellRect(const RetrievalFigureData& data, int64_t depth, int64_t length) {
    ensureFigureFonts();
    const Layout l = layoutOf(data);
    return {l.left + double(length) * l.cellW, l.top + double(depth) * l.cellH, l.cellW, l.cellH};
}

void paintRetrievalFigure(QPainter& p, const RetrievalFigureData& d) {
    const Layout l = layoutOf(d);
    const QFont font = figureFont(kFontPx);
    const QFontMetricsF fm(font);
    const bool kept = d.spec.measure == RetrievalMeasure::Kept;
    p.setPen(Qt::black);
    p.setFont(figureFont(kTitlePx));
    const std::string model = std::filesystem::path(d.model).filename().string();
    p.drawText(QRectF(kGap, kGap, l.width - 2 * kGap, kTitlePx * 1.4), Qt::AlignLeft | Qt::AlignVCenter,
               QString::fromStdString("needle in a haystack \u00b7 " + (model.empty() ? d.fileName : model)));
    p.setFont(font);
    p.drawText(QRectF(kGap, kGap + kTitlePx * 1.6, l.width - 2 * kGap, kFontPx * 1.4), Qt::AlignLeft | Qt::AlignVCenter,
               QString::fromStdString(subtitle(d)));
    const size_t L = d.lengths.size(), D = d.depths.size();
    p.setRenderHint(QPainter::Antialiasing, false);
    for (size_t di = 0; di < D; ++di)
        for (size_t li = 0; li < L; ++li) {
            const QRectF cell = retrievalCellRect(d, int64_t(di), int64_t(li));
            const auto c = retrievalColour(d.values[di * L + li]);
            p.fillRect(cell, QColor(c[0], c[1], c[2]));
            const QString text = kept ? QString("%1/%2").arg(d.keptCount[di * L + li]).arg(d.needles)
                                      : QString::number(d.values[di * L + li], 'f', 2);
            if (fm.horizontalAdvance(text) + 2 <= l.cellW) p.drawText(cell, Qt::AlignCenter, text);
        }
    p.setRenderHint(QPainter::Antialiasing, true);
    p.setPen(QPen(Qt::white, 1.0));
    for (size_t li = 1; li < L; ++li)
        p.drawLine(QPointF(l.left + double(li) * l.cellW, l.top),
                   QPointF(l.left + double(li) * l.cellW, l.top + l.plotH));
    for (size_t di = 1; di < D; ++di)
        p.drawLine(QPointF(l.left, l.top + double(di) * l.cellH),
                   QPointF(l.left + l.plotW, l.top + double(di) * l.cellH));
    p.setPen(QPen(Qt::black, 0.8));
    p.drawRect(QRectF(l.left, l.top, l.plotW, l.plotH));

    // Axes: every stride-th length so that the numbers never overlap.
    const int64_t stride = std::max<int64_t>(1, int64_t(std::ceil((fm.horizontalAdvance("000000") + 4) / l.cellW)));
    for (size_t li = 0; li < L; li += size_t(stride))
        p.drawText(QRectF(l.left + (double(li) + 0.5) * l.cellW - 40, l.top + l.plotH + 2, 80, kFontPx * 1.6),
                   Qt::AlignCenter, QString::number(d.lengths[li]));
    for (size_t di = 0; di < D; ++di)
        p.drawText(QRectF(l.left - kGap - 60, l.top + (double(di) + 0.5) * l.cellH - kFontPx, 60, 2 * kFontPx),
                   Qt::AlignRight | Qt::AlignVCenter, QString::number(d.depths[di]) + " %");
    p.drawText(QRectF(l.left, l.top + l.plotH + kFontPx * 1.8, l.plotW, kFontPx * 1.6), Qt::AlignCenter,
               "context length (tokens)");
    p.save();
    p.translate(kGap + kFontPx * 0.7, l.top + l.plotH / 2);
    p.rotate(-90);
    p.drawText(QRectF(-150, -kFontPx * 0.7, 300, kFontPx * 1.4), Qt::AlignCenter, "needle depth");
    p.restore();

    // Colour bar: the red-yellow-green scale from 0 to 1.
    const double barH = std::max(l.plotH, 120.0);
    QImage bar(1, 256, QImage::Format_RGB32);
    for (int y = 0; y < 256; ++y) {
        const auto c = retrievalColour(double(255 - y) / 255.0);
        bar.setPixel(0, y, qRgb(c[0], c[1], c[2]));
    }
    p.save();
    p.setRenderHint(QPainter::SmoothPixmapTransform, false);
    p.drawImage(QRectF(l.barX, l.top, kBarPx, barH), bar);
    p.restore();
    p.drawRect(QRectF(l.barX, l.top, kBarPx, barH));
    for (int i = 0; i <= 4; ++i) {
        const double y = l.top + barH * (1.0 - i / 4.0);
        p.drawLine(QPointF(l.barX + kBarPx, y), QPointF(l.barX + kBarPx + 4, y));
        p.drawText(QRectF(l.barX + kBarPx + 6, y - kFontPx, 100, 2 * kFontPx), Qt::AlignLeft | Qt::AlignVCenter,
                   QString::number(i / 4.0, 'f', 2));
    }
}

} // namespace attnscope::figure

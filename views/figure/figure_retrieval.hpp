#pragma once
// The needle-in-a-haystack success table of `attnscope-cli retrieval` (PREFIX.json, methods.md §3.1) as a paper
// figure, like the papers' haystack plots: context length across, needle depth down (0 % on top), each cell coloured
// red (0) -> yellow -> green (1) by the mean ROUGE-1 recall over the needles or by the share of needles kept, with
// the number in the cell. Thread: any; painting needs a QGuiApplication (ensureFigureApplication()).
#include <QtCore/QRectF>
#include <QtCore/QSizeF>

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

class QPainter;

namespace attnscope::figure {

enum class RetrievalMeasure { Recall, Kept };

// "recall" or "kept" (empty: recall); throws core::ArgumentError naming the value otherwise.
RetrievalMeasure retrievalMeasureFromName(const std::string& name);

struct RetrievalFigureSpec {
    RetrievalMeasure measure = RetrievalMeasure::Recall;
};

struct RetrievalFigureData {
    RetrievalFigureSpec spec;
    std::string fileName, model;
    std::vector<int64_t> lengths, depths; // tokens, percent
    std::vector<double> values;           // [depth][length] in [0, 1]
    std::vector<int64_t> keptCount;       // [depth][length] needles kept
    int64_t needles = 0, kept = 0, total = 0;
};

// Reads the JSON that `retrieval --out PREFIX` writes. Throws core::FileError (unreadable) or core::FormatError
// naming the file when it is not such a JSON (no success_table, shapes that disagree).
RetrievalFigureData loadRetrievalFigure(const std::filesystem::path& json, const RetrievalFigureSpec& spec);
// The cell colour of a value in [0, 1] (clamped): red, yellow at 0.5, green, as 8-bit RGB.
std::array<int, 3> retrievalColour(double value);

QSizeF retrievalFigureSize(const RetrievalFigureData& data);
QRectF retrievalCellRect(const RetrievalFigureData& data, int64_t depth, int64_t length);
void paintRetrievalFigure(QPainter& painter, const RetrievalFigureData& data);

} // namespace attnscope::figure

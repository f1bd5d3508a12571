// The figure kinds beyond the heatmap and grid, as a user makes them with attnscope-cli on the organism: text view,
// sentence matrix, retrieval table, ablation and calibration. For each: PNG size and colours against the colormap
// and the run's own numbers, PDF through poppler (pdftoppm renders, pdftotext holds the labels), SVG through Qt's XML
// reader, byte-identical repeats, and bad input as one sentence with exit code 2.
#include "colormap_path.hpp"
#include "figure_text_view.hpp"
#include "figure_writer.hpp"
#include "store/run_reader.hpp"
#include "support/cli_runner.hpp"
#include "support/test_paths.hpp"

#include <QtCore/QFile>
#include <QtCore/QXmlStreamReader>
#include <QtGui/QImage>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace attnscope::test {
namespace {

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

bool havePoppler() {
    return std::system("command -v pdftoppm >/dev/null && command -v pdftotext >/dev/null") == 0;
}

// Every <text> element's content, one per line; empty with a failure when the SVG does not parse.
std::string svgTexts(const std::string& file) {
    QFile f(QString::fromStdString(file));
    EXPECT_TRUE(f.open(QIODevice::ReadOnly)) << file;
    QXmlStreamReader xml(&f);
    std::string texts;
    while (!xml.atEnd())
        if (xml.readNext() == QXmlStreamReader::StartElement && xml.name() == QLatin1String("text"))
            texts += xml.readElementText().toStdString() + "\n";
    EXPECT_FALSE(xml.hasError()) << file << ": " << xml.errorString().toStdString();
    return texts;
}

// pdftoppm renders the page (a non-trivial image) and pdftotext's text of it.
std::string pdfText(const std::string& pdf, const std::string& stem) {
    EXPECT_EQ(std::system(("pdftoppm -r 40 -png -singlefile " + shellQuote(pdf) + " " + shellQuote(stem)).c_str()), 0);
    EXPECT_GT(QImage(QString::fromStdString(stem + ".png")).width(), 100) << pdf;
    EXPECT_EQ(std::system(("pdftotext -layout " + shellQuote(pdf) + " " + shellQuote(stem + ".txt")).c_str()), 0);
    return slurp(stem + ".txt");
}

void expectColour(const QImage& image, QPointF at, std::array<int, 3> want, const std::string& what) {
    const QColor got = image.pixelColor(at.toPoint());
    // 8-bit rounding of the same float: exact, one step of slack for the painter's conversions.
    EXPECT_NEAR(got.red(), want[0], 1) << what;
    EXPECT_NEAR(got.green(), want[1], 1) << what;
    EXPECT_NEAR(got.blue(), want[2], 1) << what;
}

// Each view written twice per format gives the same bytes; the SVG parses and the PDF renders, both with `labels`.
void expectFormats(const std::vector<std::string>& args, const std::filesystem::path& dir, const std::string& stem,
                   const std::vector<std::string>& labels) {
    for (const char* ext : {".png", ".svg", ".pdf"}) {
        std::string bytes[2];
        for (int i = 0; i < 2; ++i) {
            const std::string file = (dir / (stem + std::to_string(i) + ext)).string();
            std::vector<std::string> full = args;
            full.insert(full.end(), {"--out", file});
            const CliResult r = runCli(full);
            ASSERT_EQ(r.code, 0) << r.err;
            bytes[i] = slurp(file);
        }
        EXPECT_FALSE(bytes[0].empty());
        EXPECT_TRUE(bytes[0] == bytes[1]) << stem << ext << " differs between two runs";
    }
    const std::string svg = svgTexts((dir / (stem + "0.svg")).string());
    for (const auto& label : labels)
        EXPECT_NE(svg.find(label), std::string::npos) << label << " not in the SVG of " << stem << ":\n" << svg;
    if (!havePoppler()) return; // Debian poppler-utils; the SVG checks stand alone
    const std::string text = pdfText((dir / (stem + "0.pdf")).string(), (dir / (stem + "_page")).string());
    for (const auto& label : labels)
        EXPECT_NE(text.find(label), std::string::npos) << label << " not in the PDF of " << stem << ":\n" << text;
}

class FigureKinds : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        qputenv("QT_QPA_PLATFORM", "offscreen");
        s_dir = scratchDir("figure_kinds");
        s_story = (s_dir / "story.attn.h5").string();
        const CliResult r = runCli({"anchors", organism(), "--trace",
                                    (resourcesDir() / "prompts/anchors_story.txt").string(), "--out", s_story});
        ASSERT_EQ(r.code, 0) << r.err;
    }
    static std::string organism() { return (resourcesDir() / "models/organism").string(); }
    static std::string out(const std::string& name) { return (s_dir / name).string(); }
    static inline std::filesystem::path s_dir;
    static inline std::string s_story; // the bundled anchors story: anchors and suppression analyses
};

TEST_F(FigureKinds, TextViewShadesTokensByTheQueryRow) {
    const CliResult r = runCli({"figure", s_story, "--view", "text", "--layer", "3", "--head", "2", "--token", "30",
                                "--out", out("text.png")});
    ASSERT_EQ(r.code, 0) << r.err;
    core::RunReader run(s_story);
    figure::TextFigureSpec spec;
    spec.layer = 3, spec.head = 2, spec.query = 30;
    const figure::TextFigureData data = figure::loadTextFigure(run, spec);
    const int64_t T = run.layout().tokens;
    ASSERT_EQ(data.spec.t0, 0);
    ASSERT_EQ(data.spec.t1, T); // short runs show every token
    const QImage image(QString::fromStdString(out("text.png")));
    EXPECT_EQ(image.size(), figure::textFigureSize(data).toSize());

    // The row straight from the run; the screen's scale: the largest weight to an earlier token (self left out).
    const std::vector<float> row = run.block(3, 2, 30, 0, 1, T);
    float scale = 0;
    for (int64_t k = 0; k < 30; ++k)
        scale = std::max(scale, row[size_t(k)]);
    ASSERT_GT(scale, 0);
    EXPECT_FLOAT_EQ(float(data.vmax), scale);
    for (int64_t k : {int64_t(0), int64_t(5), int64_t(17), int64_t(29)}) {
        const QRectF box = figure::textFigureTokenRect(data, k);
        // The box's top edge lies above the glyphs (the line is 1.9 x the font size).
        const auto want = views::colormapRgb8(views::Colormap::Viridis, std::min(1.0f, row[size_t(k)] / scale));
        expectColour(image, QPointF(box.center().x(), box.top() + 1.5), want, "token " + std::to_string(k));
    }
    // Tokens after the query are out of its reach: no shade, white paper.
    const QRectF after = figure::textFigureTokenRect(data, 40);
    EXPECT_EQ(image.pixelColor(QPointF(after.center().x(), after.top() + 1.5).toPoint()), QColor(Qt::white));
}

TEST_F(FigureKinds, TextViewShadesByAStatistic) {
    const CliResult r = runCli({"figure", s_story, "--view", "text", "--layer", "1", "--head", "0", "--metric",
                                "entropy", "--colormap", "magma", "--out", out("text_entropy.png")});
    ASSERT_EQ(r.code, 0) << r.err;
    core::RunReader run(s_story);
    figure::TextFigureSpec spec;
    spec.layer = 1, spec.head = 0, spec.metric = "entropy", spec.colormap = views::Colormap::Magma;
    const figure::TextFigureData data = figure::loadTextFigure(run, spec);
    const int64_t T = run.layout().tokens;
    const std::vector<float> e = run.layerStat("entropy", 1); // [H][T]
    float hi = 0;
    for (int64_t t = 0; t < T; ++t)
        hi = std::max(hi, e[size_t(t)]);
    const QImage image(QString::fromStdString(out("text_entropy.png")));
    for (int64_t t : {int64_t(1), int64_t(10), int64_t(T - 1)}) {
        const QRectF box = figure::textFigureTokenRect(data, t);
        const auto want = views::colormapRgb8(views::Colormap::Magma, e[size_t(t)] / hi);
        expectColour(image, QPointF(box.center().x(), box.top() + 1.5), want, "token " + std::to_string(t));
    }
}

TEST_F(FigureKinds, TextViewFormatsHoldTheTokensAndRepeat) {
    expectFormats({"figure", s_story, "--view", "text", "--layer", "2", "--head", "1", "--token", "20"}, s_dir,
                  "text_fmt", {"library", "Mia", "layer 2, head 1", "attention from token 20"});
}

TEST_F(FigureKinds, TextViewBadInputIsOneSentence) {
    expectOneSentenceError(runCli({"figure", s_story, "--view", "text", "--layer", "0", "--head", "0", "--token",
                                   "999", "--out", out("x.png")}),
                           "token 999");
    expectOneSentenceError(runCli({"figure", s_story, "--view", "text", "--layer", "7", "--head", "0", "--out",
                                   out("x.png")}),
                           "layer 7");
    expectOneSentenceError(runCli({"figure", s_story, "--view", "text", "--layer", "0", "--head", "0", "--metric",
                                   "nope", "--out", out("x.png")}),
                           "nope");
    expectOneSentenceError(runCli({"figure", s_story, "--view", "text", "--out", out("x.png")}), "--layer");
    expectOneSentenceError(runCli({"figure", s_story, "--view", "text", "--layer", "0", "--head", "0", "--range",
                                   "5:x", "--out", out("x.png")}),
                           "5:x");
    EXPECT_FALSE(std::filesystem::exists(out("x.png")));
}

} // namespace
} // namespace attnscope::test

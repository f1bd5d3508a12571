// The figure kinds beyond the heatmap and grid, as a user makes them with attnscope-cli on the organism: text view,
// sentence matrix, retrieval table, ablation and calibration. For each: PNG size and colours against the colormap
// and the run's own numbers, PDF through poppler (pdftoppm renders, pdftotext holds the labels), SVG through Qt's XML
// reader, byte-identical repeats, and bad input as one sentence with exit code 2.
#include "colormap_path.hpp"
#include "figure_ablation.hpp"
#include "figure_retrieval.hpp"
#include "figure_sentences.hpp"
#include "figure_text_view.hpp"
#include "figure_writer.hpp"
#include "store/run_reader.hpp"
#include "support/cli_runner.hpp"
#include "support/test_paths.hpp"

#include <QtCore/QFile>
#include <QtCore/QXmlStreamReader>
#include <QtGui/QImage>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace attnscope::test {
namespace {

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
    return readBinary<char>(stem + ".txt");
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
            bytes[i] = readBinary<char>(file);
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
        s_plain = (s_dir / "plain.attn.h5").string();
        const CliResult c = runCli({"capture", organism(), "--prompt", "the dog ran to the cat", "--out", s_plain});
        ASSERT_EQ(c.code, 0) << c.err;
    }
    static std::string organism() { return (resourcesDir() / "models/organism").string(); }
    static std::string out(const std::string& name) { return (s_dir / name).string(); }
    static inline std::filesystem::path s_dir;
    static inline std::string s_story; // the bundled anchors story: anchors and suppression analyses
    static inline std::string s_plain; // a capture without analyses
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
    expectOneSentenceError(runCli({"figure", s_story, "--view", "text", "--layer", "0", "--head", "0", "--token", "999",
                                   "--out", out("x.png")}),
                           "token 999");
    expectOneSentenceError(
        runCli({"figure", s_story, "--view", "text", "--layer", "7", "--head", "0", "--out", out("x.png")}), "layer 7");
    expectOneSentenceError(runCli({"figure", s_story, "--view", "text", "--layer", "0", "--head", "0", "--metric",
                                   "nope", "--out", out("x.png")}),
                           "nope");
    expectOneSentenceError(runCli({"figure", s_story, "--view", "text", "--out", out("x.png")}), "--layer");
    expectOneSentenceError(runCli({"figure", s_story, "--view", "text", "--layer", "0", "--head", "0", "--range", "5:x",
                                   "--out", out("x.png")}),
                           "5:x");
    EXPECT_FALSE(std::filesystem::exists(out("x.png")));
}

// Cell (i, j) of the sentence figure's PNG, sampled at its centre.
QColor sentenceCell(const QImage& image, const figure::SentenceFigureData& d, int64_t i, int64_t j) {
    const QRectF plot = figure::sentencePlotRect(d);
    const double cell = plot.width() / double(d.n);
    return image.pixelColor(
        QPointF(plot.left() + (double(j) + 0.5) * cell, plot.top() + (double(i) + 0.5) * cell).toPoint());
}

TEST_F(FigureKinds, SentenceMatrixIsTheReceiverHeadsMean) {
    const CliResult r = runCli({"figure", s_story, "--view", "sentences", "--out", out("sent.png")});
    ASSERT_EQ(r.code, 0) << r.err;
    core::RunReader run(s_story);
    const figure::SentenceFigureData data = figure::loadSentenceFigure(run, {});
    const QImage image(QString::fromStdString(out("sent.png")));
    EXPECT_EQ(image.size(), figure::sentenceFigureSize(data).toSize());

    // The mean over the stored receiver heads of the stored [L,H,N,N] matrices, by hand.
    const core::AnalysisResult a = run.analysis("anchors");
    const core::AnalysisDataset* m = a.dataset("matrix");
    const std::vector<double> all = m->toDoubles(), heads = a.dataset("receiver_heads")->toDoubles();
    const int64_t H = m->shape[1], N = m->shape[2];
    ASSERT_EQ(data.n, N);
    std::vector<double> mean(size_t(N * N), 0.0);
    for (size_t k = 0; k + 1 < heads.size(); k += 2)
        for (int64_t c = 0; c < N * N; ++c)
            mean[size_t(c)] +=
                all[size_t((int64_t(heads[k]) * H + int64_t(heads[k + 1])) * N * N + c)] / double(heads.size() / 2);
    // The colour range is the off-diagonal lower triangle's (as on screen): its largest cell is the top colour.
    double hi = 0;
    int64_t hiI = 1, hiJ = 0;
    for (int64_t i = 1; i < N; ++i)
        for (int64_t j = 0; j < i; ++j)
            if (mean[size_t(i * N + j)] > hi) hi = mean[size_t(i * N + j)], hiI = i, hiJ = j;
    // Float32 storage of the mean: relative 1e-5 is far below one colour step.
    EXPECT_NEAR(data.vmax, hi, 1e-5 * hi);
    EXPECT_EQ(data.vmin, 0.0);
    for (auto [i, j] : {std::pair<int64_t, int64_t>{hiI, hiJ}, {5, 2}, {N - 1, 0}, {N - 1, N - 2}}) {
        const auto want = views::colormapRgb8(views::Colormap::Viridis, float(mean[size_t(i * N + j)] / hi));
        const QColor got = sentenceCell(image, data, i, j);
        EXPECT_NEAR(got.red(), want[0], 1) << i << "," << j;
        EXPECT_NEAR(got.green(), want[1], 1) << i << "," << j;
        EXPECT_NEAR(got.blue(), want[2], 1) << i << "," << j;
    }
    EXPECT_EQ(sentenceCell(image, data, 0, N - 1), QColor(235, 235, 235));     // above the diagonal: nothing attends
    const std::vector<double> broadcast = a.dataset("broadcast")->toDoubles(); // NaN for the last sentences
    ASSERT_EQ(data.broadcast.size(), broadcast.size());
    for (size_t i = 0; i < broadcast.size(); ++i)
        EXPECT_TRUE(data.broadcast[i] == broadcast[i] || (std::isnan(data.broadcast[i]) && std::isnan(broadcast[i])));
}

TEST_F(FigureKinds, SentenceMatrixOfOneHeadAndOfSuppression) {
    ASSERT_EQ(
        runCli({"figure", s_story, "--view", "sentences", "--layer", "1", "--head", "3", "--out", out("sent_head.png")})
            .code,
        0);
    core::RunReader run(s_story);
    figure::SentenceFigureSpec spec;
    spec.layer = 1, spec.head = 3;
    const figure::SentenceFigureData head = figure::loadSentenceFigure(run, spec);
    const core::AnalysisResult anchors = run.analysis("anchors");
    const core::AnalysisDataset* m = anchors.dataset("matrix");
    const std::vector<double> all = m->toDoubles();
    const int64_t H = m->shape[1], N = m->shape[2];
    for (int64_t c : {N * 3 + 1, N * (N - 1) + 4})
        EXPECT_FLOAT_EQ(head.matrix[size_t(c)], float(all[size_t((1 * H + 3) * N * N + c)]));

    spec = {};
    spec.matrix = figure::SentenceMatrix::Suppression;
    const figure::SentenceFigureData sup = figure::loadSentenceFigure(run, spec);
    const std::vector<double> stored = run.analysis("anchors_suppression").dataset("matrix")->toDoubles();
    EXPECT_FLOAT_EQ(sup.matrix[size_t(N * 4 + 2)], float(stored[size_t(N * 4 + 2)]));
    EXPECT_EQ(sup.rowAxis, "affected sentence");
}

TEST_F(FigureKinds, SentenceFormatsHoldTheSentencesAndRepeat) {
    expectFormats({"figure", s_story, "--view", "sentences"}, s_dir, "sent_fmt",
                  {"Mia hid the key in the blue box", "broadcast", "mean of 20 receiver heads", "attending sentence"});
}

TEST_F(FigureKinds, SentenceMatrixOfPublishedThoughtAnchors) {
    ATTNSCOPE_REQUIRE_SHARED();
    const auto folder = sharedDir() / "data/thought-anchors/deepseek-r1-distill-llama-8b/correct_base_solution/"
                                      "problem_6998";
    const std::string pub = out("published.attn.h5");
    std::filesystem::remove(pub);
    CliResult r = runCli({"import-scores", pub, folder.string(), "--kind", "thought-anchors", "--new-run", "--model",
                          (sharedDir() / "models/stories260K/stories260K.gguf").string()});
    ASSERT_EQ(r.code, 0) << r.err;
    expectFormats({"figure", pub, "--view", "sentences", "--metric", "published"}, s_dir, "sent_pub",
                  {"published step importance", "counterfactual_importance_kl", "target sentence"});
    core::RunReader run(pub);
    figure::SentenceFigureSpec published;
    published.matrix = figure::SentenceMatrix::Published;
    const figure::SentenceFigureData d = figure::loadSentenceFigure(run, published);
    const core::AnalysisResult a = run.analysis("anchors_published");
    const std::vector<double> step = a.dataset("step_importance")->toDoubles(); // [source][target]
    ASSERT_EQ(d.n, 64);
    EXPECT_FLOAT_EQ(d.matrix[size_t(10 * d.n + 3)], float(step[size_t(3 * d.n + 10)])); // row: target, column: source
    const std::vector<double> score = a.dataset("counterfactual_importance_kl")->toDoubles();
    ASSERT_EQ(d.score.size(), score.size());
    for (size_t i = 0; i < score.size(); ++i)
        EXPECT_TRUE(d.score[i] == score[i] || (std::isnan(d.score[i]) && std::isnan(score[i]))) << i;
    // Our own anchors beside 64 published chunks of another trace: the scores are left out, and the figure says so.
    r = runCli({"import-scores", s_story, folder.string(), "--kind", "thought-anchors"});
    ASSERT_EQ(r.code, 0) << r.err;
    core::RunReader story(s_story);
    const figure::SentenceFigureData mixed = figure::loadSentenceFigure(story, {});
    EXPECT_TRUE(mixed.score.empty());
    EXPECT_NE(mixed.note.find("64 published chunks"), std::string::npos) << mixed.note;
}

TEST_F(FigureKinds, SentenceBadInputIsOneSentence) {
    expectOneSentenceError(runCli({"figure", s_plain, "--view", "sentences", "--out", out("x.png")}),
                           "/analysis/anchors");
    expectOneSentenceError(runCli({"figure", s_story, "--view", "sentences", "--metric", "pie", "--out", out("x.png")}),
                           "pie");
    expectOneSentenceError(
        runCli({"figure", s_story, "--view", "sentences", "--layer", "9", "--head", "0", "--out", out("x.png")}),
        "layer 9");
    expectOneSentenceError(
        runCli({"figure", s_plain, "--view", "sentences", "--metric", "published", "--out", out("x.png")}),
        "import-scores");
    EXPECT_FALSE(std::filesystem::exists(out("x.png")));
}

// A small haystack run on the organism (3 needles x 2 lengths x 3 depths, about 3 s), made once.
const std::string& retrievalJson(const std::filesystem::path& dir) {
    static const std::string json = [&] {
        const std::string prefix = (dir / "haystack").string();
        const CliResult r = runCli({"retrieval", (resourcesDir() / "models/organism").string(), "--lengths", "128,256",
                                    "--depths", "0,50,100", "--out", prefix});
        EXPECT_EQ(r.code, 0) << r.err;
        return prefix + ".json";
    }();
    return json;
}

TEST_F(FigureKinds, RetrievalTableFollowsTheSuccessTable) {
    const std::string json = retrievalJson(s_dir);
    ASSERT_EQ(runCli({"figure", json, "--view", "retrieval", "--out", out("ret.png")}).code, 0);
    const CliResult kept = runCli({"figure", s_plain, "--view", "retrieval", "--retrieval", json, "--metric", "kept",
                                   "--out", out("ret_kept.png")});
    ASSERT_EQ(kept.code, 0) << kept.err;
    const figure::RetrievalFigureData data = figure::loadRetrievalFigure(json, {});
    const QImage image(QString::fromStdString(out("ret.png")));
    EXPECT_EQ(image.size(), figure::retrievalFigureSize(data).toSize());
    ASSERT_EQ(data.lengths, (std::vector<int64_t>{128, 256}));
    ASSERT_EQ(data.depths, (std::vector<int64_t>{0, 50, 100}));

    // The mean recall over needles straight from the JSON, coloured red (0) -> yellow -> green (1).
    const auto j = nlohmann::json::parse(readBinary<char>(json));
    const auto& recall = j["success_table"]["rouge1_recall"]; // [needle][length][depth]
    for (int64_t d = 0; d < 3; ++d)
        for (int64_t l = 0; l < 2; ++l) {
            double mean = 0;
            for (const auto& needle : recall)
                mean += needle[size_t(l)][size_t(d)].get<double>() / double(recall.size());
            EXPECT_NEAR(data.values[size_t(d * 2 + l)], mean, 1e-12);
            const QRectF cell = figure::retrievalCellRect(data, d, l);
            // A corner of the cell: the number is drawn in its centre.
            expectColour(image, cell.topLeft() + QPointF(3, 3), figure::retrievalColour(mean),
                         "depth " + std::to_string(d) + " length " + std::to_string(l));
        }
    EXPECT_EQ(figure::retrievalColour(0.0), (std::array<int, 3>{215, 48, 39}));
    EXPECT_EQ(figure::retrievalColour(1.0), (std::array<int, 3>{26, 152, 80}));
    EXPECT_EQ(figure::retrievalColour(0.5), (std::array<int, 3>{254, 224, 139}));
}

TEST_F(FigureKinds, RetrievalFormatsHoldTheAxesAndRepeat) {
    expectFormats({"figure", retrievalJson(s_dir), "--view", "retrieval", "--metric", "kept"}, s_dir, "ret_fmt",
                  {"needle in a haystack", "context length (tokens)", "needle depth", "256", "50 %", "/3"});
}

TEST_F(FigureKinds, RetrievalBadInputIsOneSentence) {
    expectOneSentenceError(runCli({"figure", s_plain, "--view", "retrieval", "--out", out("x.png")}),
                           "needle-in-a-haystack");
    const std::string notRetrieval = out("other.json");
    std::ofstream(notRetrieval) << "{\"columns\": []}\n";
    expectOneSentenceError(runCli({"figure", notRetrieval, "--view", "retrieval", "--out", out("x.png")}),
                           "success_table");
    expectOneSentenceError(runCli({"figure", out("missing.json"), "--view", "retrieval", "--out", out("x.png")}),
                           "missing.json");
    expectOneSentenceError(
        runCli({"figure", retrievalJson(s_dir), "--view", "retrieval", "--metric", "pie", "--out", out("x.png")}),
        "pie");
    EXPECT_FALSE(std::filesystem::exists(out("x.png")));
}

TEST_F(FigureKinds, AblationSweepIsAGridOfTheStoredDeltas) {
    const std::string text = out("text.txt"), run = out("sweep.attn.h5");
    std::ofstream(text) << "the cat sat on the mat and the dog ran to the cat . the dog sat .\n";
    CliResult r = runCli({"ablate", organism(), "--text", text, "--sweep", "--out", run});
    ASSERT_EQ(r.code, 0) << r.err;
    r = runCli({"figure", run, "--view", "ablation", "--out", out("sweep.png")});
    ASSERT_EQ(r.code, 0) << r.err;
    core::RunReader reader(run);
    const figure::AblationFigureData data = figure::loadAblationFigure(reader, {});
    ASSERT_TRUE(data.sweep);
    EXPECT_EQ(data.grid.values, reader.analysis("ablation").dataset("delta_loss")->toDoubles());
    EXPECT_EQ(QImage(QString::fromStdString(out("sweep.png"))).size(), figure::ablationFigureSize(data).toSize());
    expectFormats({"figure", run, "--view", "ablation", "--metric", "kl"}, s_dir, "sweep_fmt",
                  {"zero ablation of each head alone", "kl", "layer", "head", "base loss"});
}

TEST_F(FigureKinds, AblationOfAHeadSetShowsLossBeforeAndAfter) {
    const std::string text = out("text1.txt"), run = out("single.attn.h5");
    std::ofstream(text) << "the cat sat on the mat and the dog ran to the cat . the dog sat .\n";
    CliResult r = runCli({"ablate", organism(), "--text", text, "--heads", "3.2,3.3", "--out", run});
    ASSERT_EQ(r.code, 0) << r.err;
    r = runCli({"figure", run, "--view", "ablation", "--out", out("single.png")});
    ASSERT_EQ(r.code, 0) << r.err;
    core::RunReader reader(run);
    const figure::AblationFigureData data = figure::loadAblationFigure(reader, {});
    const core::AnalysisResult a = reader.analysis("ablation");
    const double base = std::get<double>(*a.parameter("base_loss"));
    const double delta = a.dataset("delta_loss")->toDoubles().at(0);
    ASSERT_EQ(data.bars.size(), 1u);
    EXPECT_EQ(data.bars[0].before, base);
    EXPECT_EQ(data.bars[0].after, base + delta);
    // The bars' heights are in the ratio of the losses, and the after bar has the colormap's colour.
    const QRectF before = figure::ablationBarRect(data, 0, 0), after = figure::ablationBarRect(data, 0, 1);
    EXPECT_NEAR(after.height() / before.height(), (base + delta) / base, 1e-9);
    const QImage image(QString::fromStdString(out("single.png")));
    EXPECT_EQ(image.size(), figure::ablationFigureSize(data).toSize());
    expectColour(image, after.center(), views::colormapRgb8(views::Colormap::Viridis, 0.35f), "after bar");
    expectColour(image, before.center(), {165, 165, 165}, "before bar");
    expectFormats({"figure", run, "--view", "ablation"}, s_dir, "single_fmt",
                  {"zero ablation of 3.2,3.3", "before", "after", "delta loss", "Ships"});
}

TEST_F(FigureKinds, CalibrationShowsLossAccuracyAndKlBeforeAndAfter) {
    const std::string task = out("task.tsv"), run = out("cal.attn.h5");
    std::ofstream(task) << "Tom went to the library . Tom went to the\t library\n"
                           "frog cloud soft danced frog cloud soft\t danced\n";
    CliResult r = runCli({"calibrate", organism(), "--task", task, "--heads", "2.1,2.3", "--out", run});
    ASSERT_EQ(r.code, 0) << r.err;
    core::RunReader reader(run);
    const figure::AblationFigureData data = figure::loadAblationFigure(reader, {});
    EXPECT_EQ(data.spec.kind, figure::ExperimentKind::Calibration); // no ablation in the run: the calibration
    const std::vector<double> before = reader.analysis("calibration").dataset("before")->toDoubles();
    const std::vector<double> after = reader.analysis("calibration").dataset("after")->toDoubles();
    ASSERT_EQ(data.bars.size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(data.bars[i].before, before[i]);
        EXPECT_EQ(data.bars[i].after, after[i]);
    }
    expectFormats({"figure", run, "--view", "calibration"}, s_dir, "cal_fmt",
                  {"ACT calibration", "accuracy", "2.1,2.3", "sink threshold"});
}

TEST_F(FigureKinds, AllWritesEveryKindTheRunHas) {
    const std::string dir = out("set");
    const CliResult r =
        runCli({"figure", s_story, "--all", "--retrieval", retrievalJson(s_dir), "--format", "svg", "--out", dir});
    ASSERT_EQ(r.code, 0) << r.err;
    const std::string index = readBinary<char>(std::filesystem::path(dir) / "index.md");
    for (const char* name : {"grid_stats_entropy.svg", "heatmap_L0_H0.svg", "sentences.svg",
                             "sentences_suppression.svg", "retrieval.svg"}) {
        EXPECT_NE(index.find(std::string("](") + name + ")"), std::string::npos) << name << " not in\n" << index;
        EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(dir) / name)) << name;
    }
    EXPECT_NE(index.find("](text_L3_H"), std::string::npos) << index;
    EXPECT_EQ(index.find("ablation"), std::string::npos); // the story has no ablation
}

TEST_F(FigureKinds, AblationBadInputIsOneSentence) {
    expectOneSentenceError(runCli({"figure", s_plain, "--view", "ablation", "--out", out("x.png")}),
                           "no ablation results");
    expectOneSentenceError(runCli({"figure", s_plain, "--view", "calibration", "--out", out("x.png")}),
                           "no calibration results");
    expectOneSentenceError(runCli({"figure", s_story, "--view", "pie", "--out", out("x.png")}), "pie");
    EXPECT_FALSE(std::filesystem::exists(out("x.png")));
}

} // namespace
} // namespace attnscope::test

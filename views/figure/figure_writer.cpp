#include "figure_writer.hpp"

#include "errors.hpp"

#include <QtCore/QBuffer>
#include <QtGui/QGuiApplication>
#include <QtGui/QImage>
#include <QtGui/QPageSize>
#include <QtGui/QPainter>
#include <QtGui/QPdfWriter>
#include <QtSvg/QSvgGenerator>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <unistd.h>

namespace attnscope::figure {

namespace {

// Qt's PDF engine stamps the time (Info dictionary and XMP) and a random document UUID; both are overwritten in
// place with fixed text of the same length, so the xref offsets stay valid and the bytes depend on the input only.
void fixPdfMetadata(QByteArray& pdf) {
    auto blankDigits = [&](const QByteArray& key, char close) {
        for (qsizetype at = pdf.indexOf(key); at >= 0; at = pdf.indexOf(key, at + 1)) {
            const qsizetype end = pdf.indexOf(close, at + key.size());
            if (end < 0) return;
            static const char kDigits[] = "20000101000000"; // 2000-01-01 00:00:00, then zeros (time zone)
            size_t n = 0;
            for (qsizetype i = at + key.size(); i < end; ++i)
                if (pdf[i] >= '0' && pdf[i] <= '9') pdf[i] = n < sizeof kDigits - 1 ? kDigits[n++] : '0';
        }
    };
    blankDigits("/CreationDate (", ')');
    blankDigits("/ModDate (", ')');
    blankDigits("<xmp:CreateDate>", '<');
    blankDigits("<xmp:ModifyDate>", '<');
    blankDigits("<xmp:MetadataDate>", '<');
    auto blankHex = [&](const QByteArray& key, char close) {
        for (qsizetype at = pdf.indexOf(key); at >= 0; at = pdf.indexOf(key, at + 1)) {
            const qsizetype end = pdf.indexOf(close, at + key.size());
            if (end < 0) return;
            for (qsizetype i = at + key.size(); i < end; ++i)
                if (std::isxdigit(static_cast<unsigned char>(pdf[i]))) pdf[i] = '0';
        }
    };
    blankHex("uuid:", '<');
    blankHex("/ID [<", ']');
}

QByteArray render(const std::string& ext, const FigureOptions& o, const std::function<void(QPainter&)>& paint) {
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    if (ext == ".png") {
        const double scale = o.dpi / 96.0;
        QImage image(QSize(int(o.sizePx.width() * scale), int(o.sizePx.height() * scale)), QImage::Format_ARGB32);
        image.fill(Qt::white);
        image.setDotsPerMeterX(int(o.dpi / 0.0254));
        image.setDotsPerMeterY(int(o.dpi / 0.0254));
        QPainter painter(&image);
        painter.setRenderHint(QPainter::Antialiasing);
        painter.scale(scale, scale);
        paint(painter);
        painter.end();
        image.save(&buffer, "PNG");
    } else if (ext == ".svg") {
        QSvgGenerator svg;
        svg.setOutputDevice(&buffer);
        svg.setSize(o.sizePx.toSize());
        svg.setViewBox(QRectF(QPointF(0, 0), o.sizePx));
        QPainter painter(&svg);
        paint(painter);
    } else {
        QPdfWriter pdf(&buffer);
        pdf.setResolution(96);
        pdf.setPageSize(QPageSize(o.sizePx * 72.0 / 96.0, QPageSize::Point));
        pdf.setPageMargins(QMarginsF(0, 0, 0, 0));
        // Fixed metadata keeps the output byte-identical for the same input.
        pdf.setCreator("attnscope");
        {
            QPainter painter(&pdf);
            paint(painter);
        }
        buffer.close();
        fixPdfMetadata(bytes);
    }
    return bytes;
}

} // namespace

void ensureFigureApplication() {
    if (QGuiApplication::instance()) return;
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    // Qt's warnings (no XDG_RUNTIME_DIR, font fallbacks) are noise on a command line whose stderr is one sentence.
    qInstallMessageHandler([](QtMsgType type, const QMessageLogContext&, const QString& message) {
        if (type == QtCriticalMsg || type == QtFatalMsg) std::fprintf(stderr, "%s\n", qPrintable(message));
    });
    static int argc = 1;
    static char name[] = "attnscope";
    static char* argv[] = {name, nullptr};
    static QGuiApplication app(argc, argv);
}

void writeFigure(const std::filesystem::path& file, const FigureOptions& options,
                 const std::function<void(QPainter&)>& paint) {
    ensureFigureApplication();
    const std::string ext = file.extension().string();
    if (ext != ".png" && ext != ".svg" && ext != ".pdf")
        throw core::ArgumentError("Cannot write figure '" + file.string() + "': use a .png, .svg or .pdf name.");
    const QByteArray bytes = render(ext, options, paint);
    const auto tmp = std::filesystem::path(file.string() + ".tmp-" + std::to_string(::getpid()));
    {
        std::ofstream out(tmp, std::ios::binary);
        out.write(bytes.constData(), bytes.size());
        if (!out) {
            std::filesystem::remove(tmp);
            throw core::FileError("Cannot write figure '" + file.string() + "'.");
        }
    }
    std::filesystem::rename(tmp, file);
}

} // namespace attnscope::figure

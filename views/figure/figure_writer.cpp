#include "figure_writer.hpp"

#include "errors.hpp"

#include <QtCore/QBuffer>
#include <QtGui/QGuiApplication>
#include <QtGui/QImage>
#include <QtGui/QPageSize>
#include <QtGui/QPainter>
#include <QtGui/QPdfWriter>
#include <QtSvg/QSvgGenerator>

#include <fstream>
#include <unistd.h>

namespace attnscope::figure {

namespace {

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
        QPainter painter(&pdf);
        paint(painter);
    }
    return bytes;
}

} // namespace

void writeFigure(const std::filesystem::path& file, const FigureOptions& options,
                 const std::function<void(QPainter&)>& paint) {
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

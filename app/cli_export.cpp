// `attnscope-cli export RUN --what ... --format csv|json|npy --out FILE`: tables and maps for other tools.
#include "cli_common.hpp"

#include "errors.hpp"
#include "run_export.hpp"
#include "store/run_reader.hpp"

#include <fmt/core.h>

#include <fstream>

namespace attnscope::app {

namespace {

struct ExportArgs {
    std::string run, what, format = "csv", out, range, reduce = "mean";
    int64_t layer = -1, head = -1;
    int level = 0;
};

void writeFile(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), std::streamsize(bytes.size()));
    out.close();
    if (!out) throw core::FileError("Cannot write the export file '" + path + "'.");
}

} // namespace

void addExportCommand(CLI::App& app) {
    auto* cmd = app.add_subcommand("export", "Write per-head metrics, the head classification, a head's map or tile, "
                                             "or the tokens of a run as CSV, JSON or NumPy .npy");
    auto a = std::make_shared<ExportArgs>();
    cmd->add_option("RUN", a->run, "run file (.attn.h5)")->required();
    cmd->add_option("--what", a->what, "metrics, classification, map, tile or tokens")
        ->required()
        ->check(CLI::IsMember({"metrics", "classification", "map", "tile", "tokens"}));
    cmd->add_option("--format", a->format, "csv, json or npy")->capture_default_str();
    cmd->add_option("--out", a->out, "file to write")->required();
    cmd->add_option("--layer", a->layer, "layer of the map or tile");
    cmd->add_option("--head", a->head, "head of the map or tile");
    cmd->add_option("--level", a->level, "pyramid level of a tile (cells of 2^level x 2^level tokens)")
        ->capture_default_str();
    cmd->add_option("--range", a->range, "q0:q1,k0:k1 half-open cell range (default: everything)");
    cmd->add_option("--reduce", a->reduce, "mean or max over a tile's cells")
        ->check(CLI::IsMember({"mean", "max"}))
        ->capture_default_str();
    cmd->callback([a] {
        const importers::ExportFormat format = importers::parseExportFormat(a->format);
        core::RunReader run(a->run);
        std::string bytes;
        if (a->what == "map" || a->what == "tile") {
            if (a->layer < 0 || a->head < 0)
                throw core::ArgumentError("Exporting a " + a->what + " of run file '" + a->run +
                                          "' needs --layer and --head.");
            const int level = a->what == "map" ? 0 : a->level;
            const importers::CellRange range = a->range.empty() ? importers::CellRange{} : importers::parseCellRange(a->range);
            bytes = importers::matrixText(
                importers::exportMatrix(run, a->layer, a->head, level, range, a->reduce == "max"), format);
        } else {
            const importers::ExportTable table = a->what == "metrics"          ? importers::metricsTable(run)
                                                 : a->what == "classification" ? importers::classificationTable(run)
                                                                               : importers::tokensTable(run);
            bytes = importers::tableText(table, format);
        }
        writeFile(a->out, bytes);
        fmt::print("wrote {} ({} of {}, {})\n", a->out, a->what, a->run, a->format);
    });
}

} // namespace attnscope::app

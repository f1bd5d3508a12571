#pragma once
// Shared pieces of attnscope-cli: model/runtime flags, JSON-safe printing, the error boundary's exit codes.
#include "runtime/runtime_options.hpp"

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

namespace attnscope::core {
class Transformer;
struct StoryConfig;
} // namespace attnscope::core

namespace attnscope::app {

constexpr int kExitBadInput = 2; // user input, files, models: one sentence on stderr

struct ModelArgs {
    std::string model;
    std::string device = "cpu";
    std::string dtype = "f32";
    int threads = 0;

    // Adds MODEL (positional) and --device/--dtype/--threads to a subcommand.
    void addTo(CLI::App& cmd, bool withRuntime = true);
    core::RuntimeOptions runtimeOptions() const;
    std::unique_ptr<core::Transformer> load(bool computeSha256 = false) const;
};

// --facts, --filler, --repeat-share: the organism's story mix, shared by training and evaluation so that both can
// be pointed at the same mix. The config must outlive the command (CLI11 writes into it when parsing).
void addStoryOptions(CLI::App& cmd, core::StoryConfig& story);

// The whole file as bytes; throws FileError "Cannot read the <what> file '<path>'." when it cannot be opened.
std::string readTextFile(const std::string& path, const std::string& what);

// A string as a JSON string literal (quotes included), for printing pieces safely.
std::string jsonQuote(const std::string& s);

// Each subcommand registers itself and sets a callback that runs it; the callback may throw core::Error.
void addInfoCommand(CLI::App& app);
void addTokenizeCommand(CLI::App& app);
void addGenerateCommand(CLI::App& app);
void addCaptureCommand(CLI::App& app);
void addTrainCommand(CLI::App& app);
void addEvalOrganismCommand(CLI::App& app);
void addAnalyzeCommand(CLI::App& app);
void addRetrievalCommand(CLI::App& app);
void addMaskRetrievalCommand(CLI::App& app);
void addAblateCommand(CLI::App& app);
void addAnchorsCommand(CLI::App& app);
void addCalibrateCommand(CLI::App& app);
void addImportCommand(CLI::App& app);
void addImportScoresCommand(CLI::App& app);
void addExportCommand(CLI::App& app);
void addFigureCommand(CLI::App& app); // with ATTNSCOPE_HAVE_FIGURES (builds with Qt, ATTNSCOPE_BUILD_GUI)

} // namespace attnscope::app

// attnscope-cli: headless subcommands. Wiring only; the work is in core. One boundary turns errors into exit codes.
#include "cli_common.hpp"
#include "jobs/process_setup.hpp"

#include "errors.hpp"

#include <c10/util/Exception.h>

#include <cstdio>
#include <iostream>

int main(int argc, char** argv) {
    attnscope::core::configureProcess();
    CLI::App app{"attnscope-cli: look inside the attention of transformer language models, headless."};
    app.set_version_flag("--version", std::string("attnscope ") + ATTNSCOPE_VERSION);
    app.require_subcommand(1);
    attnscope::app::addInfoCommand(app);
    attnscope::app::addTokenizeCommand(app);
    attnscope::app::addGenerateCommand(app);
    attnscope::app::addCaptureCommand(app);
    attnscope::app::addTrainCommand(app);
    attnscope::app::addEvalOrganismCommand(app);
    attnscope::app::addAnalyzeCommand(app);
    attnscope::app::addRetrievalCommand(app);
    attnscope::app::addMaskRetrievalCommand(app);
    attnscope::app::addAblateCommand(app);
    attnscope::app::addAnchorsCommand(app);
    attnscope::app::addCalibrateCommand(app);
    attnscope::app::addImportCommand(app);
    attnscope::app::addImportScoresCommand(app);
    attnscope::app::addExportCommand(app);
#ifdef ATTNSCOPE_HAVE_FIGURES
    attnscope::app::addFigureCommand(app);
#endif
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? 0 : attnscope::app::kExitBadInput;
    } catch (const attnscope::core::Error& e) {
        std::cerr << "attnscope-cli: " << e.what() << "\n";
        return attnscope::app::kExitBadInput;
    } catch (const c10::Error& e) {
        std::cerr << "attnscope-cli: libtorch failed: " << e.what_without_backtrace() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "attnscope-cli: " << e.what() << "\n";
        return 1;
    }
    return 0;
}

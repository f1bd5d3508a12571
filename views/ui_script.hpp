#pragma once
// Scripted interactions for tests and demos (`attnscope --script FILE`): one command per line, '#' starts a comment.
// Commands: frames N | wait-tiles [SECONDS] | wait-panels [SECONDS] (the model panels idle) | head L H | token T |
// pick L H | metric NAME | zoom FACTOR | pan DX DY | colormap NAME | scale linear|log|row | click-grid L H | open PATH
// | compare PATH (opens PATH as run B and shows the Compare view) | screenshot PATH | export VIEW PATH [DPI] | quit.
// Plain data, no UI.
#include <filesystem>
#include <string>
#include <vector>

namespace attnscope::views {

struct ScriptCommand {
    std::string name;
    std::vector<std::string> args;
    int line = 0;

    double number(size_t i) const; // args[i] as a number (checked by parseUiScript)
};

// Throws core::FormatError "Script 'F' line N: ..." for an unknown command or wrong arguments.
std::vector<ScriptCommand> parseUiScript(const std::string& text, const std::string& origin);
// Reads and parses a script file; throws core::FileError for a missing file.
std::vector<ScriptCommand> readUiScript(const std::filesystem::path& file);

} // namespace attnscope::views

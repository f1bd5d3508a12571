#include "ui_script.hpp"

#include "errors.hpp"

#include <cctype>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>

namespace attnscope::views {

namespace {

enum class Arg { Number, Text };

// Each command's arguments; a trailing optional argument is marked by minArgs.
struct Signature {
    std::vector<Arg> args;
    size_t minArgs;
};

const std::map<std::string, Signature>& signatures() {
    static const std::map<std::string, Signature> s{{"frames", {{Arg::Number}, 1}},
                                                    {"wait-tiles", {{Arg::Number}, 0}},
                                                    {"wait-panels", {{Arg::Number}, 0}},
                                                    {"head", {{Arg::Number, Arg::Number}, 2}},
                                                    {"token", {{Arg::Number}, 1}},
                                                    {"pick", {{Arg::Number, Arg::Number}, 2}},
                                                    {"metric", {{Arg::Text}, 1}},
                                                    {"zoom", {{Arg::Number}, 1}},
                                                    {"pan", {{Arg::Number, Arg::Number}, 2}},
                                                    {"colormap", {{Arg::Text}, 1}},
                                                    {"scale", {{Arg::Text}, 1}},
                                                    {"click-grid", {{Arg::Number, Arg::Number}, 2}},
                                                    {"open", {{Arg::Text}, 1}},
                                                    {"compare", {{Arg::Text, Arg::Text}, 1}},
                                                    {"screenshot", {{Arg::Text}, 1}},
                                                    {"quit", {{}, 0}},
                                                    {"export", {{Arg::Text, Arg::Text, Arg::Number}, 2}}};
    return s;
}

bool parseNumber(const std::string& s, double& out) {
    const char* end = s.data() + s.size();
    auto [ptr, ec] = std::from_chars(s.data(), end, out);
    return ec == std::errc() && ptr == end;
}

} // namespace

double ScriptCommand::number(size_t i) const {
    double v = 0;
    parseNumber(args.at(i), v);
    return v;
}

std::vector<ScriptCommand> parseUiScript(const std::string& text, const std::string& origin) {
    std::vector<ScriptCommand> out;
    std::istringstream lines(text);
    std::string line;
    for (int n = 1; std::getline(lines, line); ++n) {
        if (const auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
        std::istringstream words(line);
        ScriptCommand c;
        c.line = n;
        if (!(words >> c.name)) continue;
        const auto where = "Script '" + origin + "' line " + std::to_string(n) + ": ";
        const auto it = signatures().find(c.name);
        if (it == signatures().end()) throw core::FormatError(where + "unknown command '" + c.name + "'.");
        const Signature& sig = it->second;
        if (sig.args.size() == 1 && sig.args[0] == Arg::Text) {
            // One text argument is the rest of the line, so that paths may hold spaces.
            std::string rest;
            std::getline(words >> std::ws, rest);
            while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.back())))
                rest.pop_back();
            if (!rest.empty()) c.args.push_back(rest);
        } else {
            for (std::string w; words >> w;)
                c.args.push_back(w);
        }
        if (c.args.size() < sig.minArgs || c.args.size() > sig.args.size())
            throw core::FormatError(where + "'" + c.name + "' takes " + std::to_string(sig.args.size()) +
                                    " argument(s), got " + std::to_string(c.args.size()) + ".");
        for (size_t i = 0; i < c.args.size(); ++i) {
            double v = 0;
            if (sig.args[i] == Arg::Number && !parseNumber(c.args[i], v))
                throw core::FormatError(where + "'" + c.args[i] + "' is not a number.");
        }
        out.push_back(std::move(c));
    }
    return out;
}

std::vector<ScriptCommand> readUiScript(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) throw core::FileError("Cannot read script '" + file.string() + "': no such file.");
    std::ostringstream text;
    text << in.rdbuf();
    return parseUiScript(text.str(), file.string());
}

} // namespace attnscope::views

#pragma once
// Runs attnscope-cli (the path CTest puts in ATTNSCOPE_CLI) as a user would, capturing exit code, stdout, stderr.
#include <string>
#include <vector>

namespace attnscope::test {

struct CliResult {
    int code = -1; // exit status; -1 when killed by a signal
    std::string out, err;
};

// s as one single-quoted shell word.
std::string shellQuote(const std::string& s);
CliResult runCli(const std::vector<std::string>& args);
// Any program, run the same way (the GUI tests run `attnscope`).
CliResult runProgram(const std::string& program, const std::vector<std::string>& args);
// Poppler's pdftoppm and pdftotext are on PATH (tests that read PDFs back skip that part without them).
bool havePoppler();
// A user-facing error: exit 2, nothing on stdout, exactly one line on stderr that names `what`.
void expectOneSentenceError(const CliResult& r, const std::string& what);

} // namespace attnscope::test

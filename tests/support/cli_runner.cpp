#include "support/cli_runner.hpp"

#include "support/test_paths.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <sys/wait.h>

namespace attnscope::test {

std::string shellQuote(const std::string& s) {
    std::string q = "'";
    for (char c : s)
        q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

CliResult runCli(const std::vector<std::string>& args) {
    const char* cli = std::getenv("ATTNSCOPE_CLI");
    EXPECT_NE(cli, nullptr) << "ATTNSCOPE_CLI is set by CTest";
    return runProgram(cli ? cli : "attnscope-cli", args);
}

CliResult runProgram(const std::string& program, const std::vector<std::string>& args) {
    const auto dir = scratchDir("cli");
    std::string cmd = shellQuote(program);
    for (const auto& a : args)
        cmd += " " + shellQuote(a);
    cmd += " >" + shellQuote((dir / "out").string()) + " 2>" + shellQuote((dir / "err").string()) + " </dev/null";
    CliResult r;
    const int status = std::system(cmd.c_str());
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = readBinary<char>(dir / "out");
    r.err = readBinary<char>(dir / "err");
    return r;
}

void expectOneSentenceError(const CliResult& r, const std::string& what) {
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_NE(r.err.find(what), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

bool havePoppler() {
    return std::system("command -v pdftoppm >/dev/null && command -v pdftotext >/dev/null") == 0;
}

} // namespace attnscope::test

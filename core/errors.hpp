#pragma once
// Typed errors for user input: each message is one full sentence that names the file and the problem.
#include <stdexcept>
#include <string>

namespace attnscope::core {

// Base of every error a user can cause (bad file, bad argument, unsupported model); caught at one boundary.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A path that is missing or unreadable.
class FileError : public Error {
public:
    using Error::Error;
};

// A file whose bytes do not follow its format (truncated, corrupted, wrong shapes).
class FormatError : public Error {
public:
    using Error::Error;
};

// A well-formed input that asks for something we do not support (architecture, dtype, device).
class UnsupportedError : public Error {
public:
    using Error::Error;
};

// A bad command-line or API argument.
class ArgumentError : public Error {
public:
    using Error::Error;
};

} // namespace attnscope::core

#pragma once
// Token strings for an imported run: a JSON list of strings, a JSON object {"tokens": [...], "ids": [...]}, or a
// text file with one token per line. Without ids, equal pieces get equal ids, numbered in order of first appearance
// (so duplicate-token and induction scores still see repeats); text is the pieces joined, spans index into it.
#include "store/run_types.hpp"

#include <filesystem>

namespace attnscope::importers {

// Throws core::FileError (missing) or core::FormatError (bad JSON, non-string tokens, ids of another length, a NUL
// inside a piece, no tokens), each naming the file.
core::RunTokens readTokenList(const std::filesystem::path& path);

// Distinct ids in `tokens` (the vocabulary size an import reports).
int64_t distinctIds(const core::RunTokens& tokens);

} // namespace attnscope::importers

#pragma once
// Checks shared by the tokenizer suites: spans tile the text in order, fixture paths, errors that name their file.
#include "model/tokenizer.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace attnscope::test {

// Every span starts where the previous one ended, none runs backwards, and together they cover text exactly.
// Special tokens with empty spans at the start or the end fit this rule too.
inline ::testing::AssertionResult spansTileText(const core::Encoding& e, std::string_view text) {
    if (e.spans.size() != e.ids.size() || e.pieces.size() != e.ids.size())
        return ::testing::AssertionFailure() << "ids, pieces and spans differ in length";
    int64_t cursor = 0;
    for (size_t k = 0; k < e.spans.size(); ++k) {
        const auto [b, en] = e.spans[k];
        if (b != cursor || en < b)
            return ::testing::AssertionFailure()
                   << "token " << k << " spans [" << b << "," << en << ") after " << cursor;
        cursor = en;
    }
    if (cursor != static_cast<int64_t>(text.size()))
        return ::testing::AssertionFailure() << "spans end at " << cursor << ", text has " << text.size() << " bytes";
    return ::testing::AssertionSuccess();
}

inline std::vector<std::pair<int64_t, int64_t>> spanPairs(const core::Encoding& e) {
    std::vector<std::pair<int64_t, int64_t>> out;
    for (const auto& s : e.spans)
        out.emplace_back(s.begin, s.end);
    return out;
}

inline std::filesystem::path tokenizerFixture(const std::string& name) {
    return testDataDir() / "tokenizers" / name;
}

inline void writeText(const std::filesystem::path& p, std::string_view text) {
    std::ofstream out(p, std::ios::binary);
    out << text;
}

} // namespace attnscope::test

// Expects statement to throw ErrorType with a message that contains needle (usually the file's path).
#define EXPECT_THROW_NAMING(statement, ErrorType, needle)                                                              \
    do {                                                                                                               \
        try {                                                                                                          \
            statement;                                                                                                 \
            ADD_FAILURE() << "no exception from " #statement;                                                          \
        } catch (const ErrorType& e) {                                                                                 \
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)                                           \
                << "message \"" << e.what() << "\" does not contain \"" << (needle) << "\"";                           \
        } catch (const std::exception& e) {                                                                            \
            ADD_FAILURE() << "wrong exception type from " #statement ": " << e.what();                                 \
        }                                                                                                              \
    } while (0)

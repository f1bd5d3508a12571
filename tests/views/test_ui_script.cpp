// Scripted interactions: what parses, and the one-sentence errors for what does not.
#include "errors.hpp"
#include "ui_script.hpp"

#include <gtest/gtest.h>

using namespace attnscope;

TEST(UiScript, ParsesCommandsArgumentsAndComments) {
    const auto s = views::parseUiScript("# a comment\nframes 3\n\nhead 1 2  # select\nwait-tiles\nzoom 2.5\n"
                                        "screenshot /tmp/a b.png\nquit\n",
                                        "s.txt");
    ASSERT_EQ(s.size(), 6u);
    EXPECT_EQ(s[0].name, "frames");
    EXPECT_EQ(s[0].number(0), 3);
    EXPECT_EQ(s[1].name, "head");
    EXPECT_EQ(s[1].line, 4);
    EXPECT_EQ(s[1].number(1), 2);
    EXPECT_TRUE(s[2].args.empty()); // wait-tiles' timeout is optional
    EXPECT_DOUBLE_EQ(s[3].number(0), 2.5);
    EXPECT_EQ(s[4].args.at(0), "/tmp/a b.png"); // a text argument is the rest of the line
    EXPECT_EQ(s[5].name, "quit");
}

TEST(UiScript, RejectsUnknownCommandsAndBadArguments) {
    struct Case {
        const char* text;
        const char* message;
    };
    const Case cases[] = {
        {"fly 3", "Script 'x' line 1: unknown command 'fly'."},
        {"frames\n", "Script 'x' line 1: 'frames' takes 1 argument(s), got 0."},
        {"frames 1\nhead 1", "Script 'x' line 2: 'head' takes 2 argument(s), got 1."},
        {"zoom two", "Script 'x' line 1: 'two' is not a number."},
        {"quit now", "Script 'x' line 1: 'quit' takes 0 argument(s), got 1."},
    };
    for (const auto& c : cases) {
        try {
            views::parseUiScript(c.text, "x");
            ADD_FAILURE() << "accepted: " << c.text;
        } catch (const core::FormatError& e) {
            EXPECT_EQ(std::string(e.what()), c.message);
        }
    }
}

TEST(UiScript, MissingFileNamesIt) {
    EXPECT_THROW(views::readUiScript("/nonexistent/script.txt"), core::FileError);
}

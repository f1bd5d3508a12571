// Explorer settings: recent files, round trip, and a malformed file falling back to defaults with a warning.
#include "errors.hpp"
#include "explorer_settings.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

using namespace attnscope;

TEST(ExplorerSettings, RecentFilesAreMostRecentFirstUniqueAndBounded) {
    views::ExplorerSettings s;
    for (int i = 0; i < 12; ++i)
        s.addRecent("run" + std::to_string(i));
    s.addRecent("run5");
    ASSERT_EQ(s.recentFiles.size(), views::ExplorerSettings::kMaxRecent);
    EXPECT_EQ(s.recentFiles[0], "run5");
    EXPECT_EQ(s.recentFiles[1], "run11");
    EXPECT_EQ(std::count(s.recentFiles.begin(), s.recentFiles.end(), "run5"), 1);
}

TEST(ExplorerSettings, RoundTripsThroughTheFile) {
    const auto file = test::scratchDir("settings") / "settings.json";
    views::ExplorerSettings s;
    s.addRecent("/a.attn.h5");
    s.addRecent("/b.attn.h5");
    s.modelPath = "/models/x";
    s.metric = "sink_rate/sink_rate";
    s.colormap = "magma";
    s.windowWidth = 1024;
    s.windowHeight = 700;
    views::saveSettings(s, file);
    EXPECT_FALSE(std::filesystem::exists(file.string() + ".partial"));
    std::string warning;
    const auto r = views::loadSettings(file, &warning);
    EXPECT_TRUE(warning.empty());
    EXPECT_EQ(r.recentFiles, s.recentFiles);
    EXPECT_EQ(r.modelPath, s.modelPath);
    EXPECT_EQ(r.metric, s.metric);
    EXPECT_EQ(r.colormap, "magma");
    EXPECT_EQ(r.windowWidth, 1024);
    EXPECT_EQ(r.windowHeight, 700);
}

TEST(ExplorerSettings, MissingOrMalformedFileGivesDefaults) {
    const auto dir = test::scratchDir("settings-bad");
    std::string warning;
    EXPECT_TRUE(views::loadSettings(dir / "none.json", &warning).recentFiles.empty());
    EXPECT_TRUE(warning.empty());
    std::ofstream(dir / "bad.json") << "{ not json";
    const auto r = views::loadSettings(dir / "bad.json", &warning);
    EXPECT_EQ(r.windowWidth, 1600);
    EXPECT_NE(warning.find((dir / "bad.json").string()), std::string::npos) << warning;
}

TEST(ExplorerSettings, UnwritableFolderThrowsNamingTheFile) {
    EXPECT_THROW(views::saveSettings({}, "/nonexistent/dir/settings.json"), core::FileError);
}

// views/colormap.hpp against matplotlib's own tables (values from matplotlib's _cm_listed.py at 0, 0.5 and 1), and
// the properties a figure relies on: clamping, NaN, names.
#include "colormap_path.hpp"

#include <gtest/gtest.h>

namespace attnscope::views {
namespace {

struct Reference {
    Colormap map;
    float t;
    int r, g, b;
};

// matplotlib hex values: viridis #440154 #21918c #fde725, magma #000004 #b73779 #fcfdbf, inferno #000004 #bc3754
// #fcffa4, plasma #0d0887 #cc4778 #f0f921.
const Reference kReferences[] = {
    {Colormap::Viridis, 0.0f, 0x44, 0x01, 0x54}, {Colormap::Viridis, 0.5f, 0x21, 0x91, 0x8c},
    {Colormap::Viridis, 1.0f, 0xfd, 0xe7, 0x25}, {Colormap::Magma, 0.0f, 0x00, 0x00, 0x04},
    {Colormap::Magma, 0.5f, 0xb7, 0x37, 0x79},   {Colormap::Magma, 1.0f, 0xfc, 0xfd, 0xbf},
    {Colormap::Inferno, 0.0f, 0x00, 0x00, 0x04}, {Colormap::Inferno, 0.5f, 0xbc, 0x37, 0x54},
    {Colormap::Inferno, 1.0f, 0xfc, 0xff, 0xa4}, {Colormap::Plasma, 0.0f, 0x0d, 0x08, 0x87},
    {Colormap::Plasma, 0.5f, 0xcc, 0x47, 0x78},  {Colormap::Plasma, 1.0f, 0xf0, 0xf9, 0x21},
};

TEST(Colormap, MatchesMatplotlibWithinThePolynomialFitError) {
    for (const auto& ref : kReferences) {
        const auto c = colormapRgb8(ref.map, ref.t);
        // The degree-6 fits stay within 5/255 of the tables (largest at the ends); 8-bit rounding adds at most 1.
        EXPECT_NEAR(c[0], ref.r, 6) << colormapName(ref.map) << " at " << ref.t;
        EXPECT_NEAR(c[1], ref.g, 6) << colormapName(ref.map) << " at " << ref.t;
        EXPECT_NEAR(c[2], ref.b, 6) << colormapName(ref.map) << " at " << ref.t;
    }
}

TEST(Colormap, ClampsAndNamesRoundTrip) {
    EXPECT_EQ(colormapRgb8(Colormap::Viridis, -3.0f), colormapRgb8(Colormap::Viridis, 0.0f));
    EXPECT_EQ(colormapRgb8(Colormap::Viridis, 7.0f), colormapRgb8(Colormap::Viridis, 1.0f));
    EXPECT_EQ(colormapRgb8(Colormap::Magma, std::nanf("")), colormapRgb8(Colormap::Magma, 0.0f));
    EXPECT_EQ(colormapRgb8(Colormap::Gray, 0.5f), (std::array<int, 3>{128, 128, 128}));
    for (auto name : kColormapNames)
        EXPECT_EQ(colormapName(*colormapFromName(name)), name);
    EXPECT_FALSE(colormapFromName("jet").has_value());
}

} // namespace
} // namespace attnscope::views

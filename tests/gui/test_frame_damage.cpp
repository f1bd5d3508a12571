// Partial redraws: FrameDamage finds what changed between two real ImGui frames, and a window redrawn only where it
// changed has the same pixels as one redrawn whole (Mesa's software renderer under Xvfb keeps the back buffer).
#include "frame_damage.hpp"
#include "gl_window.hpp"

#include <gtest/gtest.h>
#include <imgui.h>

using namespace attnscope::views;

namespace {

GlWindowOptions hiddenWindow() {
    GlWindowOptions o;
    o.width = 800, o.height = 600, o.visible = false, o.vsync = false;
    return o;
}

// Window A never changes; window B shows `counter` and, when asked, an image of texture `image`.
void drawUi(int counter, ImTextureID image = nullptr) {
    ImGui::SetNextWindowPos(ImVec2(10, 10));
    ImGui::SetNextWindowSize(ImVec2(300, 200));
    ImGui::Begin("A");
    ImGui::TextUnformatted("nothing changes here");
    ImGui::End();
    ImGui::SetNextWindowPos(ImVec2(400, 10));
    ImGui::SetNextWindowSize(ImVec2(300, 200));
    ImGui::Begin("B");
    ImGui::Text("count %d", counter);
    ImGui::ColorButton("##c", ImVec4(float(counter % 7) / 7.0f, 0.5f, 1.0f - float(counter % 5) / 5.0f, 1.0f));
    if (image) ImGui::Image(image, ImVec2(32, 32));
    ImGui::End();
}

} // namespace

TEST(FrameDamage, OnlyChangedWindowsAreDamaged) {
    GlWindow window(hiddenWindow());
    FrameDamage damage;
    auto frame = [&](int counter, ImTextureID image = nullptr, bool full = false) {
        window.beginFrame();
        drawUi(counter, image);
        ImGui::Render();
        return damage.update(*ImGui::GetDrawData(), full);
    };
    EXPECT_FALSE(frame(0).empty()) << "the first frame draws every list";
    // Windows settle in their first frames (focus, title colours): then identical frames draw nothing.
    for (int i = 0; i < 3; ++i)
        frame(0);
    EXPECT_TRUE(frame(0).empty()) << "an identical frame draws nothing";
    const DamageRect b = frame(1);
    ASSERT_FALSE(b.empty());
    // Window B spans x 400..700, y 10..210; its border's anti-aliased fringe (up to 1.5 px) and the damage's own
    // one-pixel margin reach a few pixels out. A (x 10..310) is untouched.
    EXPECT_GE(b.x0, 396);
    EXPECT_LE(b.x1, 704);
    EXPECT_LE(b.y1, 214);
    // An image whose texture may change behind the same geometry is redrawn every frame, until it is declared stable.
    const auto texture = reinterpret_cast<ImTextureID>(intptr_t(987654));
    EXPECT_FALSE(frame(1, texture).empty());
    EXPECT_FALSE(frame(1, texture).empty());
    FrameDamage::registerStableTexture(texture);
    EXPECT_TRUE(frame(1, texture).empty());
    FrameDamage::unregisterStableTexture(texture);
    const DamageRect all = frame(1, nullptr, true);
    EXPECT_EQ(all.x0, 0);
    EXPECT_EQ(all.y0, 0);
    EXPECT_EQ(all.x1, 800);
    EXPECT_EQ(all.y1, 600);
}

TEST(FrameDamage, PartialRedrawsGiveTheSamePixelsAsFullOnes) {
    GlWindow window(hiddenWindow());
    auto frame = [&](int counter) {
        window.beginFrame();
        drawUi(counter);
        window.renderWithoutSwap();
        const Screenshot shot = window.readPixels();
        window.swap();
        return shot;
    };
    for (int i = 0; i < 3; ++i)
        frame(i);
    frame(3);
    const int64_t partialPixels = window.lastRedrawnPixels();
    const Screenshot partial = frame(4);
    window.setFullRedraw(true);
    const Screenshot full = frame(4);
    EXPECT_EQ(window.lastRedrawnPixels(), 800 * 600);
    ASSERT_EQ(partial.rgb.size(), full.rgb.size());
    EXPECT_TRUE(partial.rgb == full.rgb) << "a partial redraw left pixels that a full one draws differently";
    // Only window B changed between frames 3 and 4: under a third of the 800 x 600 window was drawn.
    EXPECT_GT(partialPixels, 0);
    EXPECT_LT(partialPixels, 800 * 600 / 3) << "Mesa's software renderer keeps the back buffer: redraws are partial";
}

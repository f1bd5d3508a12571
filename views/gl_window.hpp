#pragma once
// The window every GL view draws in: GLFW + an OpenGL 3.3 core context + Dear ImGui with its GLFW/OpenGL3 backends,
// created and destroyed together (RAII). Files dropped on the window are queued. Thread: the one that created it.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct GLFWwindow;

namespace attnscope::views {

struct GlWindowOptions {
    int width = 1600, height = 1000;
    bool visible = true;         // false: a hidden window (tests, benchmarks that read pixels back)
    bool vsync = true;           // false for benchmarks: frames are not held to the display's rate
    std::string iniPath;         // ImGui's layout file; empty: layout is not saved
    std::string title = "attnscope";
};

// RGB pixels read back from the framebuffer, top row first.
struct Screenshot {
    int width = 0, height = 0;
    std::vector<uint8_t> rgb; // [height][width][3]
};

class GlWindow {
public:
    // Throws core::Error with one sentence when there is no display or no OpenGL 3.3 context.
    explicit GlWindow(const GlWindowOptions& options = {});
    ~GlWindow();
    GlWindow(const GlWindow&) = delete;
    GlWindow& operator=(const GlWindow&) = delete;

    bool shouldClose() const;
    void requestClose();
    // Polls events and starts an ImGui frame.
    void beginFrame();
    // Renders ImGui and swaps.
    void endFrame();
    // The back buffer as last rendered (call after ImGui rendered, before swapping: endFrame(false) then swap()).
    Screenshot readPixels() const;
    // Renders ImGui into the back buffer: on Mesa's software renderers only what changed since the last frame (see
    // FrameDamage), elsewhere everything.
    void renderWithoutSwap();
    // Redraws every pixel each frame (for comparisons; the result is the same).
    void setFullRedraw(bool on) { m_fullRedraw = on; }
    // Pixels the last renderWithoutSwap() drew (0 when nothing changed).
    int64_t lastRedrawnPixels() const { return m_redrawn; }
    void swap();
    void size(int& width, int& height) const; // framebuffer pixels
    // Paths dropped on the window since the last call.
    std::vector<std::string> takeDroppedPaths();
    GLFWwindow* handle() const { return m_window; }
    // Scripted input: from the next frame on, the mouse is at (x, y) with the left button down or up, whatever the
    // real pointer does (tests under Xvfb have no pointer); clearScriptedMouse() gives it back.
    void setScriptedMouse(float x, float y, bool leftDown);
    void clearScriptedMouse();

private:
    struct Frame; // damage tracking across frames (gl_window.cpp)

    GLFWwindow* m_window = nullptr;
    std::unique_ptr<Frame> m_frame;
    bool m_fullRedraw = false;
    int64_t m_redrawn = 0;
    std::string m_iniPath; // ImGui keeps a pointer to it
    std::vector<std::string> m_dropped;
    bool m_scripted = false, m_scriptedDown = false;
    float m_scriptedX = 0, m_scriptedY = 0;
};

// Writes an RGB screenshot as PNG (temporary name, renamed when complete). Throws FileError naming the path.
void writePng(const Screenshot& shot, const std::string& path);

} // namespace attnscope::views

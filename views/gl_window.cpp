#include "gl_window.hpp"

#include "frame_damage.hpp"

#include "errors.hpp"

#include <fmt/format.h>

#define GL_GLEXT_PROTOTYPES
#include <GLFW/glfw3.h>
#include <GL/glext.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>
#include <stb_image_write.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <utility>
#include <system_error>

namespace attnscope::views {

namespace {

// DejaVu Sans (Debian's fonts-dejavu-core, the figures' font too) with Latin, Greek, Cyrillic, punctuation, arrows,
// maths and block elements, so token pieces (sentencepiece's U+2581, accents) and labels (beta, Delta) show as
// themselves; ImGui's built-in font is ASCII only and stays the fallback when the file is missing.
void loadUiFont(ImGuiIO& io) {
    static const ImWchar kRanges[] = {0x0020, 0x024F, 0x0370, 0x03FF, 0x0400, 0x04FF, 0x2000, 0x206F, 0x2190, 0x21FF,
                                      0x2200, 0x22FF, 0x2500, 0x259F, 0x25A0, 0x25FF, 0};
    const char* file = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    if (std::filesystem::exists(file) && io.Fonts->AddFontFromFileTTF(file, 14.0f, nullptr, kRanges)) return;
    io.Fonts->AddFontDefault();
}

void onDrop(GLFWwindow* window, int count, const char** paths) {
    auto* self = static_cast<std::vector<std::string>*>(glfwGetWindowUserPointer(window));
    for (int i = 0; i < count; ++i)
        self->emplace_back(paths[i]);
}

} // namespace

GlWindow::GlWindow(const GlWindowOptions& options) : m_iniPath(options.iniPath) {
    if (!glfwInit()) {
        const char* why = nullptr;
        glfwGetError(&why);
        throw core::Error(fmt::format("Cannot open a window: GLFW found no display (is DISPLAY set?{}{}).",
                                      why ? " GLFW says: " : "", why ? why : ""));
    }
    glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
    glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
    glfwWindowHint(GLFW_VISIBLE, options.visible ? GLFW_TRUE : GLFW_FALSE);
    m_window = glfwCreateWindow(options.width, options.height, options.title.c_str(), nullptr, nullptr);
    if (!m_window) {
        glfwTerminate();
        throw core::Error("Cannot open a window: no OpenGL 3.3 context is available.");
    }
    glfwMakeContextCurrent(m_window);
    glfwSwapInterval(options.vsync ? 1 : 0);
    glfwSetWindowUserPointer(m_window, &m_dropped);
    glfwSetDropCallback(m_window, onDrop);

    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = m_iniPath.empty() ? nullptr : m_iniPath.c_str();
    io.ConfigFlags |= ImGuiConfigFlags_NavEnableKeyboard;
    loadUiFont(io);
    ImGui::StyleColorsDark();
    ImGui_ImplGlfw_InitForOpenGL(m_window, true);
    ImGui_ImplOpenGL3_Init("#version 330 core");
}

GlWindow::~GlWindow() {
    ImGui_ImplOpenGL3_Shutdown();
    ImGui_ImplGlfw_Shutdown();
    ImGui::DestroyContext();
    glfwDestroyWindow(m_window);
    glfwTerminate();
}

bool GlWindow::shouldClose() const { return glfwWindowShouldClose(m_window); }
void GlWindow::requestClose() { glfwSetWindowShouldClose(m_window, GLFW_TRUE); }

void GlWindow::beginFrame() {
    glfwPollEvents();
    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    if (m_scripted) {
        // After the backend wrote the real pointer's state, before ImGui reads it.
        ImGuiIO& io = ImGui::GetIO();
        io.MousePos = ImVec2(m_scriptedX, m_scriptedY);
        io.MouseDown[0] = m_scriptedDown;
    }
    ImGui::NewFrame();
}

void GlWindow::setScriptedMouse(float x, float y, bool leftDown) {
    m_scripted = true;
    m_scriptedX = x;
    m_scriptedY = y;
    m_scriptedDown = leftDown;
}

void GlWindow::clearScriptedMouse() { m_scripted = false; }

// Partial redraws need the back buffer to hold the last frame after a swap, which GL does not promise. Mesa's software
// rasterisers (the case that needs them: they pay per pixel) keep it; GPU drivers redraw everything, which costs them
// little. A few pixels of the last frame are read back before drawing as a check: if any differs, the whole frame is
// redrawn.
struct GlWindow::Frame {
    FrameDamage damage;
    bool partialAllowed = false;
    int width = 0, height = 0;
    std::vector<std::array<int, 2>> probes; // GL pixel coordinates
    std::vector<uint32_t> probeValues;

    static uint32_t pixel(int x, int y) {
        uint32_t v = 0;
        glReadPixels(x, y, 1, 1, GL_RGBA, GL_UNSIGNED_BYTE, &v);
        return v;
    }
    bool lastFrameKept() const {
        for (size_t i = 0; i < probes.size(); ++i)
            if (pixel(probes[i][0], probes[i][1]) != probeValues[i]) return false;
        return !probes.empty();
    }
    // Corners and centre of the window and of what was just drawn.
    void remember(int x0, int y0, int x1, int y1) {
        probes.clear();
        probeValues.clear();
        for (const auto& [a0, b0, a1, b1] : {std::array<int, 4>{0, 0, width, height}, std::array<int, 4>{x0, y0, x1, y1}}) {
            if (a1 - a0 < 3 || b1 - b0 < 3) continue;
            for (const auto& p : {std::array<int, 2>{a0 + 1, b0 + 1}, {a1 - 2, b0 + 1}, {a0 + 1, b1 - 2}, {a1 - 2, b1 - 2},
                                  {(a0 + a1) / 2, (b0 + b1) / 2}})
                probes.push_back(p), probeValues.push_back(pixel(p[0], p[1]));
        }
    }
};

void GlWindow::renderWithoutSwap() {
    ImGui::Render();
    ImDrawData& data = *ImGui::GetDrawData();
    int w = 0, h = 0;
    glfwGetFramebufferSize(m_window, &w, &h);
    if (w <= 0 || h <= 0) return;
    if (!m_frame) {
        m_frame = std::make_unique<Frame>();
        const auto* renderer = reinterpret_cast<const char*>(glGetString(GL_RENDERER));
        const std::string name = renderer ? renderer : "";
        m_frame->partialAllowed = name.find("llvmpipe") != std::string::npos ||
                                  name.find("softpipe") != std::string::npos;
    }
    Frame& f = *m_frame;
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
    glViewport(0, 0, w, h);
    const bool sameSize = f.width == w && f.height == h;
    f.width = w, f.height = h;
    const bool partial = f.partialAllowed && !m_fullRedraw && sameSize && f.lastFrameKept();
    const DamageRect damage = f.damage.update(data, !partial);
    m_redrawn = 0;
    if (damage.empty()) return;
    const ImVec2 scale = data.FramebufferScale, pos = data.DisplayPos;
    const int x0 = std::max(0, int((damage.x0 - pos.x) * scale.x)), x1 = std::min(w, int(std::ceil((damage.x1 - pos.x) * scale.x)));
    const int y0 = std::max(0, int((damage.y0 - pos.y) * scale.y)), y1 = std::min(h, int(std::ceil((damage.y1 - pos.y) * scale.y)));
    m_redrawn = int64_t(x1 - x0) * int64_t(y1 - y0);
    clipToDamage(data, damage);
    glEnable(GL_SCISSOR_TEST);
    glScissor(x0, h - y1, x1 - x0, y1 - y0);
    glClearColor(0.10f, 0.10f, 0.12f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    glDisable(GL_SCISSOR_TEST);
    ImGui_ImplOpenGL3_RenderDrawData(&data);
    if (f.partialAllowed) f.remember(x0, h - y1, x1, h - y0);
}

void GlWindow::swap() { glfwSwapBuffers(m_window); }

void GlWindow::endFrame() {
    renderWithoutSwap();
    swap();
}

Screenshot GlWindow::readPixels() const {
    Screenshot s;
    size(s.width, s.height);
    std::vector<uint8_t> flipped(size_t(s.width) * size_t(s.height) * 3);
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glReadBuffer(GL_BACK);
    glReadPixels(0, 0, s.width, s.height, GL_RGB, GL_UNSIGNED_BYTE, flipped.data());
    // GL's rows run bottom-up; images run top-down.
    s.rgb.resize(flipped.size());
    const size_t row = size_t(s.width) * 3;
    for (int y = 0; y < s.height; ++y)
        std::copy_n(flipped.data() + size_t(s.height - 1 - y) * row, row, s.rgb.data() + size_t(y) * row);
    return s;
}

void GlWindow::size(int& width, int& height) const { glfwGetFramebufferSize(m_window, &width, &height); }

std::vector<std::string> GlWindow::takeDroppedPaths() { return std::exchange(m_dropped, {}); }

void writePng(const Screenshot& shot, const std::string& path) {
    const std::string partial = path + ".partial";
    if (!stbi_write_png(partial.c_str(), shot.width, shot.height, 3, shot.rgb.data(), shot.width * 3))
        throw core::FileError("Cannot write screenshot '" + path + "': the folder is missing or not writable.");
    std::error_code ec;
    std::filesystem::rename(partial, path, ec);
    if (ec) throw core::FileError("Cannot write screenshot '" + path + "': " + ec.message() + ".");
}

} // namespace attnscope::views

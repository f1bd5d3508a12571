#include "gl_window.hpp"

#include "errors.hpp"

#define GL_GLEXT_PROTOTYPES
#include <GLFW/glfw3.h>
#include <GL/glext.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>
#include <stb_image_write.h>

#include <algorithm>
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
    if (!glfwInit()) throw core::Error("Cannot open a window: GLFW found no display (is DISPLAY set?).");
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

void GlWindow::renderWithoutSwap() {
    ImGui::Render();
    int w = 0, h = 0;
    glfwGetFramebufferSize(m_window, &w, &h);
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
    glViewport(0, 0, w, h);
    glClearColor(0.10f, 0.10f, 0.12f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
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

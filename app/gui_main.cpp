// attnscope: the desktop explorer (GLFW + OpenGL 3 + Dear ImGui). Wiring only; views live in views/.
#include "errors.hpp"
#include "jobs/process_setup.hpp"
#include "model/model_files.hpp"
#include "model/tokenizer.hpp"
#include "view_model_info.hpp"

#include <CLI/CLI.hpp>
#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <vector>

namespace {

struct GlfwSession {
    GlfwSession() {
        if (!glfwInit()) throw attnscope::core::Error("Cannot open a window: GLFW found no display (is DISPLAY set?).");
    }
    ~GlfwSession() { glfwTerminate(); }
};

std::vector<std::pair<std::string, std::string>> describe(const std::string& path) {
    // The info panel reads config and tokenizer only; weights stay on disk until a view needs them.
    attnscope::core::ModelFiles files = attnscope::core::loadModelFiles(path);
    const auto& c = files.config;
    return {{"source", files.source},
            {"architecture", attnscope::core::architectureName(c.architecture)},
            {"layers", std::to_string(c.nLayers)},
            {"heads", std::to_string(c.nHeads)},
            {"KV heads", std::to_string(c.nKvHeads)},
            {"head dim", std::to_string(c.headDim)},
            {"d_model", std::to_string(c.dModel)},
            {"vocabulary", std::to_string(c.vocabSize)},
            {"weights", files.weightsDtype},
            {"tokenizer", files.tokenizer ? files.tokenizer->kind() : "none"}};
}

} // namespace

int main(int argc, char** argv) {
    attnscope::core::configureProcess();
    CLI::App app{"attnscope: explore the attention of transformer language models."};
    std::string model;
    int frames = 0;
    app.add_option("MODEL", model, "model folder or .gguf file to open");
    app.add_option("--frames", frames, "quit after this many frames (0: run until closed)");
    CLI11_PARSE(app, argc, argv);

    try {
        attnscope::views::ViewModelInfo info;
        if (!model.empty()) info.setRows(describe(model));

        GlfwSession glfw;
        glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
        glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
        glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
        GLFWwindow* window = glfwCreateWindow(1280, 800, "attnscope", nullptr, nullptr);
        if (!window) throw attnscope::core::Error("Cannot open a window: no OpenGL 3.3 context is available.");
        glfwMakeContextCurrent(window);
        glfwSwapInterval(1);

        IMGUI_CHECKVERSION();
        ImGui::CreateContext();
        ImGui_ImplGlfw_InitForOpenGL(window, true);
        ImGui_ImplOpenGL3_Init("#version 330");

        for (int frame = 0; !glfwWindowShouldClose(window) && (frames == 0 || frame < frames); ++frame) {
            glfwPollEvents();
            ImGui_ImplOpenGL3_NewFrame();
            ImGui_ImplGlfw_NewFrame();
            ImGui::NewFrame();
            info.draw();
            ImGui::Render();
            int w = 0, h = 0;
            glfwGetFramebufferSize(window, &w, &h);
            glViewport(0, 0, w, h);
            glClearColor(0.12f, 0.12f, 0.14f, 1.0f);
            glClear(GL_COLOR_BUFFER_BIT);
            ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
            glfwSwapBuffers(window);
        }
        ImGui_ImplOpenGL3_Shutdown();
        ImGui_ImplGlfw_Shutdown();
        ImGui::DestroyContext();
        glfwDestroyWindow(window);
    } catch (const attnscope::core::Error& e) {
        std::cerr << "attnscope: " << e.what() << "\n";
        return 2;
    }
    return 0;
}

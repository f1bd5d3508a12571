#include "view_capture_panel.hpp"

#include "errors.hpp"
#include "panel_math.hpp"

#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>

namespace attnscope::views {

namespace {

// A name not yet taken in `folder` (two captures within one second get "-2", "-3", ...).
std::filesystem::path freshRunPath(const std::filesystem::path& folder) {
    const std::string name = timestampRunName(std::time(nullptr));
    std::filesystem::path p = folder / name;
    const std::string stem = name.substr(0, name.size() - std::string(".attn.h5").size());
    for (int i = 2; std::filesystem::exists(p); ++i)
        p = folder / (stem + "-" + std::to_string(i) + ".attn.h5");
    return p;
}

const char* const kFullNames[] = {"auto", "always", "never"};

} // namespace

ViewCapturePanel::ViewCapturePanel(ExplorerState& state, ModelWorker& worker)
    : ViewBase("Capture"), m_state(state), m_worker(worker) {}

bool ViewCapturePanel::startCapture() {
    m_messageIsError = true;
    if (m_job) {
        m_message = "A capture is already running; cancel it first.";
        return false;
    }
    if (prompt.empty()) {
        m_message = "Type or paste a prompt first.";
        return false;
    }
    if (m_state.modelPath.empty()) {
        m_message = "Choose a model (a Hugging Face folder or a .gguf file) first.";
        return false;
    }
    m_load = m_worker.ensureLoaded(m_state.modelPath, device);
    core::CaptureOptions options;
    options.prompt = prompt;
    options.generate = generate;
    options.full = full;
    const std::filesystem::path folder =
        outFolder.empty() ? runsFolder(std::getenv("XDG_DATA_HOME"), std::getenv("HOME")) : outFolder;
    m_job = m_worker.submit<core::CaptureResult>(
        "capture", [options, folder](core::Transformer& model, core::Progress& progress) mutable {
            std::error_code ec;
            std::filesystem::create_directories(folder, ec);
            if (ec)
                throw core::FileError("Cannot create the runs folder '" + folder.string() + "': " + ec.message() + ".");
            options.out = freshRunPath(folder);
            return core::captureRun(model, options, &progress);
        });
    m_message.clear();
    m_messageIsError = false;
    return true;
}

void ViewCapturePanel::cancel() {
    if (m_job) m_job->cancel();
}

void ViewCapturePanel::update() {
    if (m_load && m_load->ready()) m_load.reset();
    if (!m_job || !m_job->ready()) return;
    auto job = std::move(m_job);
    if (job->succeeded()) {
        const core::CaptureResult r = job->take();
        m_lastRun = r.file;
        m_message = "Captured " + std::to_string(r.tokens) + " tokens (" + std::to_string(r.generated) +
                    " generated) to " + r.file.string() + ".";
        m_messageIsError = false;
        if (m_state.openRun) m_state.openRun(r.file, false);
    } else if (job->wasCancelled()) {
        m_message = "Capture cancelled; nothing was written.";
        m_messageIsError = false;
    } else {
        m_message = job->error();
        m_messageIsError = true;
        if (m_state.status) m_state.status(m_message);
    }
}

void ViewCapturePanel::drawContent() {
    update();
    const bool running = m_job != nullptr;
    ImGui::TextUnformatted("Prompt");
    ImGui::InputTextMultiline("##prompt", &prompt, ImVec2(-1, ImGui::GetTextLineHeight() * 8),
                              ImGuiInputTextFlags_AllowTabInput);
    if (m_state.modelPath != m_modelSeen) { // changed elsewhere (a model opened from the menu)
        m_modelSeen = m_state.modelPath;
        m_modelText = m_modelSeen.string();
    }
    ImGui::SetNextItemWidth(-90);
    if (ImGui::InputTextWithHint("Model", "model folder or .gguf", &m_modelText))
        m_state.modelPath = m_modelSeen = m_modelText;
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("A Hugging Face folder (config.json, safetensors) or a .gguf file");

    const std::vector<std::string> devices = availableDevices();
    ImGui::SetNextItemWidth(110);
    if (ImGui::BeginCombo("Device", device.c_str())) {
        for (const auto& d : devices)
            if (ImGui::Selectable(d.c_str(), d == device)) device = d;
        ImGui::EndCombo();
    }
    ImGui::SameLine();
    ImGui::SetNextItemWidth(90);
    if (ImGui::InputInt("Generate", &generate)) generate = std::max(0, generate);
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("Tokens to generate after the prompt; their attention is captured too");
    ImGui::SameLine();
    int fullIndex = int(full);
    ImGui::SetNextItemWidth(90);
    if (ImGui::Combo("Full maps", &fullIndex, kFullNames, 3)) full = core::FullMaps(fullIndex);
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("Keep the full [L,H,T,T] maps: auto keeps them while they fit 2 GiB; tiles are recomputed "
                          "from Q/K otherwise");

    const WorkerModel model = m_worker.model();
    if (model.loaded()) ImGui::TextDisabled("Loaded: %s", model.description.c_str());

    if (!running) {
        if (ImGui::Button("Capture") ||
            (ImGui::IsWindowFocused(ImGuiFocusedFlags_RootAndChildWindows) && ImGui::GetIO().KeyCtrl &&
             ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Enter))))
            startCapture();
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("Run the model on a worker and open the run (Ctrl+Enter)");
    } else {
        const std::string stage = m_load ? "loading the model" : m_job->stage();
        const std::string label = stage.empty() ? std::string("waiting") : stage;
        ImGui::ProgressBar(m_load ? 0.0f : m_job->fraction(), ImVec2(-90, 0), label.c_str());
        ImGui::SameLine();
        if (ImGui::Button("Cancel")) cancel();
    }
    if (!m_message.empty()) {
        if (m_messageIsError)
            ImGui::TextColored(ImVec4(1.0f, 0.45f, 0.4f, 1.0f), "%s", m_message.c_str());
        else
            ImGui::TextWrapped("%s", m_message.c_str());
    }
}

} // namespace attnscope::views

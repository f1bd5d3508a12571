#include "explorer.hpp"

#include <nlohmann/json.hpp>

namespace attnscope::views {

void Explorer::scriptViewCommand(const ScriptCommand& c) {
    setStatus("Script line " + std::to_string(c.line) + ": '" + c.name + "' is not available in this build.", true);
}

std::string Explorer::regionsJson() const {
    nlohmann::json j;
    if (m_state.run) {
        j["layers"] = m_state.run.snapshot->layers();
        j["heads"] = m_state.run.snapshot->heads();
        j["tokens"] = m_state.run.snapshot->tokenCount();
    }
    j["layer"] = m_state.layer;
    j["head"] = m_state.head;
    j["error"] = m_lastError;
    return j.dump(2);
}

} // namespace attnscope::views

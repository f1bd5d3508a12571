#pragma once
// Base of every interactive view: owns the window name and open flag; subclasses draw the contents. UI thread only.
#include <string>

namespace attnscope::views {

class ViewBase {
public:
    explicit ViewBase(std::string name) : m_name(std::move(name)) {}
    virtual ~ViewBase() = default;

    // Begins the ImGui window, calls drawContent() when visible, ends it.
    void draw();
    const std::string& name() const { return m_name; }
    bool& open() { return m_open; }

protected:
    virtual void drawContent() = 0;

private:
    std::string m_name;
    bool m_open = true;
};

} // namespace attnscope::views

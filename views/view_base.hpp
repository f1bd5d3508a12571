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
    // Where the window first appears (pixels), until the user moves it; the layout file remembers it after that.
    void setPlacement(float x, float y, float width, float height) { m_placement = {x, y, width, height}; }

protected:
    virtual void drawContent() = 0;

private:
    std::string m_name;
    bool m_open = true;
    struct {
        float x = 40, y = 40, width = 480, height = 360;
    } m_placement;
};

} // namespace attnscope::views

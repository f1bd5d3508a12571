#pragma once
// Base of every interactive view: owns the window name and open flag; subclasses draw the contents. A view that can be
// exported as a figure says what it shows (figureRequest); right-clicking its title bar offers "Export figure...".
// UI thread only.
#include "figure_request.hpp"

#include <functional>
#include <optional>
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
    // What the view shows now, as a figure; none when it shows nothing exportable.
    virtual std::optional<FigureRequest> figureRequest() const { return std::nullopt; }
    // Called with figureRequest() when the user asks to export this view.
    void setExportHandler(std::function<void(const FigureRequest&)> handler) { m_export = std::move(handler); }

protected:
    virtual void drawContent() = 0;

private:
    void drawTitleMenu();

    std::string m_name;
    bool m_open = true;
    std::function<void(const FigureRequest&)> m_export;
    struct {
        float x = 40, y = 40, width = 480, height = 360;
    } m_placement;
};

} // namespace attnscope::views

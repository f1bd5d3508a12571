#pragma once
// The text view: the run's text as wrapped tokens, each shaded by the attention it gets from the selected token (its
// row) or gives to it (its column), for the selected head or the mean of the picked heads; click a token to select it.
// Only visible lines are drawn (line breaks are computed once per width), so 32K tokens stay smooth; rows and columns
// are read off the UI thread (AttentionFetch). UI thread only.
#include "attention_fetch.hpp"
#include "explorer_state.hpp"
#include "text_shading.hpp"
#include "view_base.hpp"

#include <array>
#include <memory>
#include <string>
#include <vector>

namespace attnscope::views {

class ViewText : public ViewBase {
public:
    explicit ViewText(ExplorerState& state, std::string name = "Text");

    ShadeOptions& options() { return m_options; }
    bool& meanOfPicked() { return m_meanOfPicked; }
    // The query the view asked for in the last frame, and the fetch serving it (tests wait on it).
    const AttentionQuery& query() const { return m_query; }
    const AttentionFetch& fetch() const { return m_fetch; }
    // Lines as laid out in the last frame: the token index each starts with.
    const std::vector<int64_t>& lineStarts() const { return m_lineStarts; }
    // Screen rectangle (x0, y0, x1, y1) of a token drawn in the last frame; false when it was not visible.
    bool tokenScreenRect(int64_t token, std::array<float, 4>& rect) const;
    // The selected token's attention over the visible tokens (one head, "attends to"; the figure has no gamma).
    std::optional<FigureRequest> figureRequest() const override;

protected:
    void drawContent() override;

private:
    void drawControls();
    void layoutTokens(float wrapWidth);
    void drawTokens();

    ExplorerState& m_state;
    AttentionFetch m_fetch;
    AttentionQuery m_query;
    ShadeOptions m_options;
    bool m_meanOfPicked = false;

    // Token texts and line breaks of m_laidOut at m_wrapWidth.
    std::shared_ptr<const RunSnapshot> m_laidOut;
    float m_wrapWidth = -1, m_fontSize = 0;
    std::vector<TokenText> m_texts;
    std::vector<float> m_widths;
    std::vector<int64_t> m_lineStarts;
    int64_t m_shownToken = -1; // the selection the view last scrolled to
    int64_t m_firstVisible = 0;
    std::vector<std::array<float, 4>> m_visibleRects; // tokens m_firstVisible.. drawn in the last frame
};

} // namespace attnscope::views

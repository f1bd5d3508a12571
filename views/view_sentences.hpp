#pragma once
// The sentence view (thought anchors): from the snapshot's /analysis/anchors (and anchors_suppression when present),
// the sentence x sentence matrix as heat cells, the receiver heads by kurtosis (click selects the head), and the
// strongest links as arcs over the sentences laid out as wrapped text. Without the analysis it says so and shows the
// command that computes it. UI thread only; reads the RunSnapshot, never the file.
#include "colormap.hpp"
#include "explorer_state.hpp"
#include "sentence_arcs.hpp"
#include "view_base.hpp"

#include <array>
#include <memory>
#include <string>
#include <vector>

namespace attnscope::views {

// The anchors analysis as the view uses it; ok is false when the run has none or it lacks a dataset.
struct SentenceData {
    bool ok = false;
    int64_t sentences = 0, layers = 0, heads = 0;
    std::vector<std::string> text;
    std::vector<std::array<int64_t, 2>> tokens; // [begin, end) per sentence
    std::vector<float> matrices;                // [L][H][N][N]
    std::vector<std::pair<int64_t, int64_t>> receivers;
    std::vector<double> receiverKurtosis, broadcast; // per receiver head; per sentence
    std::vector<float> suppression;                  // [N][N] ln(KL) (affected x suppressed); empty without it
    std::vector<double> effect;                      // per sentence; empty without it
};
SentenceData sentenceData(const RunSnapshot& snapshot);

class ViewSentences : public ViewBase {
public:
    enum class Matrix { ReceiverMean, SelectedHead, Suppression };

    explicit ViewSentences(ExplorerState& state, std::string name = "Sentences");

    Matrix& matrix() { return m_matrix; }
    int& topLinks() { return m_topLinks; }
    const SentenceData& data() const { return m_data; }
    // The arcs drawn in the last frame (block coordinates) and the selected sentence (-1: none).
    const std::vector<SentenceArc>& arcs() const { return m_arcs; }
    int64_t selectedSentence() const { return m_selected; }
    // The matrix on screen: the receiver heads' mean, the selected head's, or suppression.
    std::optional<FigureRequest> figureRequest() const override;

protected:
    void drawContent() override;

private:
    void drawMissing();
    // The N x N matrix shown and the weights the links use (the suppression matrix's KL, not its log).
    std::vector<float> shownMatrix(bool forLinks) const;
    void drawMatrix(float side);
    void drawReceivers();
    void drawArcs();
    void selectSentence(int64_t i);

    ExplorerState& m_state;
    std::shared_ptr<const RunSnapshot> m_for;
    SentenceData m_data;
    Matrix m_matrix = Matrix::ReceiverMean;
    Colormap m_colormap = Colormap::Magma;
    int m_topLinks = 12;
    bool m_onlySelected = false;
    int64_t m_selected = -1;
    std::vector<SentenceArc> m_arcs;
};

} // namespace attnscope::views

#pragma once
// ACT calibration measured on a task file (methods.md §2.1): loss, exact-match accuracy and KL before and after,
// with the reference's greedy per-head screening to choose the heads. Per-head rows in (layer, head) order.
// Torch-free.
#include "intervene/attention_edit.hpp"
#include "store/run_analysis.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace attnscope::core {

class Progress;
class Transformer;

// One task line: the prompt and the answer expected right after it.
struct TaskItem {
    std::string prompt, answer;
};

// "prompt<TAB>expected answer" per line; empty lines are skipped; "\n" and "\t" in either field are escapes.
// Throws FileError for a missing file, FormatError naming the line that lacks a tab or has an empty answer.
std::vector<TaskItem> readTaskFile(const std::filesystem::path& path);

struct CalibrationParams {
    ActCalibration act;        // threshold, beta, and the heads (ignored when screening)
    bool screen = false;       // choose heads by calibrating each one alone
    bool screenAllLayers = false; // screen every layer, not only the reference's 2..L-2
};

// Scores of the answers under one model state, teacher-forced: the prompt is one prefill (ACT finds its sinks
// there) and the answer's tokens follow as a continuation of the same sequence.
struct TaskScore {
    double loss = 0;     // mean cross-entropy of the answer tokens (nats)
    int64_t correct = 0; // items whose every answer token is the argmax (= greedy decoding yields the answer)
    double accuracy = 0; // correct / items
    double kl = 0;       // mean over answer positions of KL(base || this) of the next-token distributions
};

struct ScreenRow {
    int64_t layer = 0, head = 0;
    TaskScore score;
    double meanSinks = 0; // sinks ACT scaled per prompt in this head
    bool kept = false;    // accuracy above the baseline, or equal with a lower loss (tool default; §2.1 unverified)
};

struct CalibrationReport {
    int64_t items = 0, answerTokens = 0;
    CalibrationParams params;
    ActCalibration applied; // the calibration of the "after" column (screened heads when screening)
    bool anyHeads = true;   // false when screening kept no head: "after" is then the baseline
    TaskScore before, after;
    std::vector<ScreenRow> screen;
    EditSet edits() const;  // the applied calibration as an edit set (empty when no head was kept)
};

// Throws ArgumentError for an empty task list, bad ACT parameters or heads, a model without a tokenizer.
CalibrationReport runCalibration(Transformer& model, const std::vector<TaskItem>& items,
                                 const CalibrationParams& params, Progress* progress = nullptr);

// The report as /analysis/calibration, with the edits as JSON.
AnalysisResult calibrationAnalysis(const CalibrationReport& report);
std::string calibrationTable(const CalibrationReport& report);

} // namespace attnscope::core

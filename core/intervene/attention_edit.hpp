#pragma once
// Attention edits as plain data: head ablations, ACT calibration and span suppression (methods.md §2.1, §3.2, §4.6,
// §5.1, §5.2), composed in order into an EditSet that serialises to JSON and is stored with every result. Torch-free.
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace attnscope::core {

struct ModelConfig;

// One head, a KV head (all of its query heads, GQA) or a whole layer (head = -1). Written "L.H", "L.kvH", "L.*".
struct HeadRef {
    int64_t layer = 0;
    int64_t head = -1;
    bool kv = false;
    bool operator==(const HeadRef&) const = default;
};

enum class AblationMethod {
    Zero,     // the head's output z (before W_O) is 0
    Mean,     // z at every position is the mean of z over the reference's positions
    Resample, // z at position p is the reference's z at position p mod T_ref (activation patching)
    Uniform,  // attention uniform over the visible keys: q = 0, the retrieval-head masking of §3.2
    Scale,    // q scaled by epsilon before the softmax: Ships' scale_mask on q (§5.2)
};

struct HeadAblation {
    AblationMethod method = AblationMethod::Zero;
    std::vector<HeadRef> heads;        // must not be empty
    double epsilon = 1e-5;             // Scale only (Ships' quick-start value)
    std::vector<int32_t> referenceIds; // Mean/Resample: the reference's token ids; empty: referenceText, else the input
    std::string referenceText;         // tokenised (with BOS) when referenceIds is empty
    bool operator==(const HeadAblation&) const = default;
};

// ACT: per head, keys whose mean received attention exceeds threshold (strict) are sinks, the first sink dropped;
// sinks keep beta of their mass and the rest goes to the other keys in proportion to their attention.
struct ActCalibration {
    std::vector<HeadRef> heads; // empty: every head of layers 2..L-2, the reference's layer gate
    double threshold = 0.1;
    double beta = 0.4;
    bool operator==(const ActCalibration&) const = default;
};

// Keys [begin, end) receive no attention in the chosen heads (pre-softmax -inf, all query rows); empty: identity.
struct SpanSuppression {
    int64_t begin = 0, end = 0;
    std::vector<HeadRef> heads; // empty: every head of every layer, as the reference does
    bool operator==(const SpanSuppression&) const = default;
};

using AttentionEdit = std::variant<HeadAblation, ActCalibration, SpanSuppression>;

// Edits in the order they are applied; within one stage (probabilities, then head outputs) later edits see the
// result of earlier ones.
struct EditSet {
    std::vector<AttentionEdit> edits;
    bool empty() const { return edits.empty(); }
    bool operator==(const EditSet&) const = default;
};

AblationMethod parseAblationMethod(const std::string& s); // "zero"|"mean"|"resample"|"uniform"|"scale"
const char* ablationMethodName(AblationMethod m);

// "L.H", "L.kvH" or "L.*". Throws ArgumentError naming the text.
HeadRef parseHeadRef(const std::string& s);
std::string formatHeadRef(const HeadRef& h);
// Comma-separated head refs; empty text gives an empty list.
std::vector<HeadRef> parseHeadList(const std::string& s);
std::string formatHeadList(const std::vector<HeadRef>& heads);

// The (layer, query head) pairs a list names, sorted and unique. Throws ArgumentError for a layer or head outside
// the model ("Head 9.2 is outside the model: it has 4 layers of 8 heads.").
std::vector<std::pair<int64_t, int64_t>> expandHeads(const std::vector<HeadRef>& heads, const ModelConfig& config);
// Query heads an ACT edit calibrates (its default layer gate applied).
std::vector<std::pair<int64_t, int64_t>> actHeads(const ActCalibration& act, const ModelConfig& config);

// Checks every edit against the model: heads in range, beta in [0, 1], threshold in [0, 1), epsilon >= 0, a span
// with 0 <= begin <= end, ablations with heads. Throws ArgumentError with one sentence.
void validateEditSet(const EditSet& edits, const ModelConfig& config);

// {"version": 1, "edits": [{"type": "ablate"|"act"|"suppress", ...}]}; see docs/methods.md §7.
std::string editSetToJson(const EditSet& edits);
// Throws FormatError "Edits in 'ORIGIN' are malformed: <problem>." for bad JSON or fields.
EditSet editSetFromJson(const std::string& json, const std::string& origin);
// Throws FileError for a missing or unreadable file, FormatError as editSetFromJson.
EditSet readEditSet(const std::filesystem::path& path);

// One line per edit, for tables and logs ("zero ablation of 2.3,1.kv0").
std::string describeEdits(const EditSet& edits);

} // namespace attnscope::core

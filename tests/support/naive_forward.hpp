#pragma once
// An independent reference forward pass in plain loops and double precision, from Hugging Face's definitions
// (LlamaForCausalLM with rotate-half RoPE and repeat_kv GQA; GPT2LMHeadModel). Tiny models only.
#include "support/tiny_checkpoint.hpp"

#include <functional>
#include <vector>

namespace attnscope::test {

struct NaiveOutput {
    std::vector<std::vector<double>> logits;                            // [T][V]
    std::vector<std::vector<std::vector<std::vector<double>>>> probs; // [L][H][T][T], zeros above the diagonal
};

// Optional edits applied by hand, for checking interventions: probs sees each head's full [T][T] map after the
// softmax (before P·V); headOutputs sees each layer's head outputs [T][H*d] before W_O.
struct NaiveEdits {
    std::function<void(int64_t layer, int64_t head, std::vector<std::vector<double>>& probs)> probs;
    std::function<void(int64_t layer, std::vector<std::vector<double>>& z)> headOutputs;
};

NaiveOutput naiveForward(const TinySpec& spec, const TinyWeights& w, const std::vector<int32_t>& ids,
                         const NaiveEdits* edits = nullptr);

} // namespace attnscope::test

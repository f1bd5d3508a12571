#pragma once
// An independent reference forward pass in plain loops and double precision, from Hugging Face's definitions
// (LlamaForCausalLM with rotate-half RoPE and repeat_kv GQA; GPT2LMHeadModel). Tiny models only.
#include "support/tiny_checkpoint.hpp"

#include <vector>

namespace attnscope::test {

struct NaiveOutput {
    std::vector<std::vector<double>> logits;                            // [T][V]
    std::vector<std::vector<std::vector<std::vector<double>>>> probs; // [L][H][T][T], zeros above the diagonal
};

NaiveOutput naiveForward(const TinySpec& spec, const TinyWeights& w, const std::vector<int32_t>& ids);

} // namespace attnscope::test

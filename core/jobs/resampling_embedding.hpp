#pragma once
// Sentence embeddings for "different meaning" in counterfactual resampling (methods.md §4.3; docs/methods.md lists
// the deviation): the model's own last-layer residual stream after the final norm, averaged over the sentence's
// tokens, each sentence encoded on its own (BOS and other zero-width special tokens left out of the mean). Stands in
// for all-MiniLM-L6-v2, which is not available offline. Thread: the model's worker; results cached per sentence.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace attnscope::core {

class Transformer;

class SentenceEmbedder {
public:
    // Reads the final norm's weights from the model's files (mapped, so nothing large is copied). Throws the
    // loader's FileError/FormatError when the model's source cannot be read again.
    explicit SentenceEmbedder(Transformer& model);

    // d_model floats; empty for a sentence with no token of its own (empty text).
    const std::vector<float>& embed(const std::string& sentence);

    // Cosine similarity of two embeddings; NaN when either is empty or zero.
    static double cosine(const std::vector<float>& a, const std::vector<float>& b);

    int64_t forwards() const { return m_forwards; }

private:
    Transformer& m_model;
    std::vector<float> m_normWeight, m_normBias; // bias: GPT-2's LayerNorm only
    std::map<std::string, std::vector<float>> m_cache;
    int64_t m_forwards = 0;
};

} // namespace attnscope::core

#pragma once
// Trains the model organism (a small Llama: RMSNorm, rotate-half RoPE, GQA, SwiGLU, tied head) on the story corpus
// and writes it as a Hugging Face folder. Deterministic from the seed on one device and thread count. Torch-free.
#include "organism/story_corpus.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace attnscope::core {

class Progress;

struct TrainOptions {
    std::filesystem::path outDir; // empty: trainOrganism() does not save
    int64_t steps = 2000;
    uint64_t seed = 1;          // seeds the weights (torch::manual_seed) and the corpus
    std::string device = "cpu"; // "cpu", "cuda", "cuda:N"
    int threads = 0;            // CPU threads (process-wide, as the runtime sets them); 0: availableThreads()
    int64_t batch = 16;         // rows of seqLen tokens per step
    int64_t seqLen = 512;       // also max_position_embeddings of the saved model
    int64_t layers = 4;
    int64_t heads = 8;
    int64_t kvHeads = 8; // divides heads
    int64_t width = 128; // d_model; divisible by heads, head dim even
    int64_t ffWidth = 384;
    double lr = 3e-3;
    double minLrFraction = 0.1; // cosine decay ends at lr * minLrFraction
    int64_t warmupSteps = -1;   // -1: 5% of steps (at least 1)
    double weightDecay = 0.1;   // matrices only; norms are not decayed
    double gradClip = 1.0;      // max global L2 norm of the gradient
    double initStd = 0.02;
    // An organism folder to start from instead of random weights (same sizes; its vocabulary may be an older, shorter
    // one, whose rows are copied while the new words keep their random rows). The optimiser state starts fresh.
    std::filesystem::path initFrom;
    StoryConfig story; // must keep every sample within seqLen (maxSampleLength)
};

// One finished optimiser step. loss: mean cross-entropy (nats) over the batch's real next tokens.
struct TrainStep {
    int64_t step = 0; // 1-based
    double loss = 0;
    int64_t tokens = 0;         // real (non-pad) tokens trained on so far
    double tokensPerSecond = 0; // real (non-pad) tokens per second, averaged since the first step
    double seconds = 0;         // since the first step began
};

struct TrainResult {
    std::vector<double> losses; // one per step
    int64_t tokens = 0;         // real tokens trained on
    double seconds = 0;
    double tokensPerSecond = 0;
    std::filesystem::path folder; // where the model was saved; empty when not saved
};

using TrainCallback = std::function<void(const TrainStep&)>;

class OrganismTrainer {
public:
    // Builds the model and optimiser. Throws ArgumentError for inconsistent options, UnsupportedError for a
    // device libtorch cannot use.
    explicit OrganismTrainer(const TrainOptions& options);
    ~OrganismTrainer();
    OrganismTrainer(const OrganismTrainer&) = delete;
    OrganismTrainer& operator=(const OrganismTrainer&) = delete;

    // One optimiser step on the next batch of packed stories; returns its loss.
    TrainStep step();
    // The current model's logits of one sequence starting at position 0: [ids.size()][vocab], float32, row-major.
    std::vector<float> logits(std::span<const int32_t> ids) const;
    // Writes config.json, model.safetensors, tokenizer.json, tokenizer_config.json and training_curve.csv (step,
    // loss, lr, seconds) through a temporary sibling folder renamed into place (replacing an existing folder).
    // Throws FileError.
    void save(const std::filesystem::path& folder) const;

    const TrainOptions& options() const;
    int64_t stepsDone() const;
    int64_t parameterCount() const;

    struct Impl;

private:
    std::unique_ptr<Impl> m_impl;
};

// Trains options.steps steps, reporting each to progress (stage "train", total steps; cancel -> Cancelled) and to
// onStep, then saves to options.outDir when it is set.
TrainResult trainOrganism(const TrainOptions& options, Progress* progress = nullptr, const TrainCallback& onStep = {});

} // namespace attnscope::core

#pragma once
// A loaded decoder-only transformer (Llama family or GPT-2) that runs on one device with our own attention.
// Batch size 1. Thread: one worker at a time per instance. Logits come back as float32 on the host.
#include "model/model_config.hpp"
#include "runtime/runtime_options.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace attnscope::core {

class AttentionHook;
class Tokenizer;
struct ModelFiles;

// Keys and values of the positions seen so far, per layer, on the model's device.
class KvCache {
public:
    KvCache();
    ~KvCache();
    KvCache(KvCache&&) noexcept;
    KvCache& operator=(KvCache&&) noexcept;
    int64_t length() const;
    void clear();

    struct State;
    State& state() { return *m_state; }

private:
    std::unique_ptr<State> m_state;
};

// Which logits a forward call produces: every position, the last one, or every position handed to the hook in
// row chunks and not returned.
enum class Logits { All, Last, ToHook };

struct ForwardOutput {
    int64_t positions = 0;     // rows in logits
    int64_t vocab = 0;
    std::vector<float> logits; // [positions][vocab], float32
};

class Transformer {
public:
    // Moves weights to the device in the compute dtype. Throws UnsupportedError for an unavailable device.
    Transformer(ModelFiles&& files, const RuntimeOptions& options);
    ~Transformer();

    // Loads a model folder or .gguf file (loadModelFiles) and builds it.
    static std::unique_ptr<Transformer> load(const std::filesystem::path& path, const RuntimeOptions& options,
                                             bool computeSha256 = false);

    const ModelConfig& config() const;
    const RuntimeOptions& options() const;
    // Throws Error when the model came without a tokenizer.
    const Tokenizer& tokenizer() const;
    bool hasTokenizer() const;
    const std::string& source() const;
    const std::string& format() const;
    const std::string& weightsDtype() const;
    const std::string& weightsSha256() const;
    int64_t parameterCount() const;
    std::string deviceName() const;

    // Runs ids at positions [cache.length(), cache.length() + ids.size()) and appends them to the cache.
    // A null cache means a fresh sequence. Logits::ToHook needs a hook.
    ForwardOutput forward(std::span<const int32_t> ids, KvCache* cache = nullptr, AttentionHook* hook = nullptr,
                          Logits logits = Logits::All);

    struct Impl;

private:
    std::unique_ptr<Impl> m_impl;
};

} // namespace attnscope::core

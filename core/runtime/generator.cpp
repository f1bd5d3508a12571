#include "runtime/generator.hpp"

#include "errors.hpp"
#include "model/tokenizer.hpp"
#include "runtime/transformer.hpp"

#include <algorithm>

namespace attnscope::core {

GenerateResult generate(Transformer& model, const std::vector<int32_t>& prompt, const GenerateOptions& options,
                        AttentionHook* hook, const std::function<bool(int32_t)>& onToken, KvCache* cache) {
    if (prompt.empty()) throw ArgumentError("Generation needs at least one prompt token (BOS for an empty prompt).");
    if (options.maxNewTokens < 0) throw ArgumentError("The number of new tokens must be >= 0.");
    KvCache local;
    KvCache& kv = cache ? *cache : local;
    Sampler sampler(options.sampling);
    GenerateResult result;
    result.ids = prompt;
    result.promptLength = static_cast<int64_t>(prompt.size());
    if (options.maxNewTokens == 0) return result;

    ForwardOutput out = model.forward(prompt, &kv, hook, Logits::Last);
    for (int64_t i = 0; i < options.maxNewTokens; ++i) {
        const int32_t next = sampler.next(out.logits);
        result.ids.push_back(next);
        const bool stop = std::find(options.stopIds.begin(), options.stopIds.end(), next) != options.stopIds.end();
        if (onToken && !onToken(next)) break;
        if (stop) {
            result.stopped = true;
            break;
        }
        if (i + 1 < options.maxNewTokens) out = model.forward(std::span<const int32_t>(&next, 1), &kv, hook, Logits::Last);
    }
    return result;
}

std::vector<int32_t> defaultStopIds(const Transformer& model) {
    std::vector<int32_t> ids;
    const ModelConfig& c = model.config();
    int64_t eos = c.eosId.value_or(-1);
    int64_t bos = c.bosId.value_or(-1);
    if (model.hasTokenizer()) {
        if (eos < 0) eos = model.tokenizer().eosId();
        if (bos < 0) bos = model.tokenizer().bosId();
    }
    if (eos >= 0) ids.push_back(static_cast<int32_t>(eos));
    // llama2.c-trained models (GGUF from llama2.c, like stories260K) end a story by predicting BOS.
    if (model.format() == "gguf" && bos >= 0) ids.push_back(static_cast<int32_t>(bos));
    return ids;
}

} // namespace attnscope::core

#include "capture/attention_probe.hpp"

#include "capture/block_reduce.hpp"
#include "capture/pyramid.hpp"
#include "runtime/attention.hpp"
#include "store/run_writer.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>

namespace attnscope::core {

namespace {

template <typename T> std::vector<T> toHost(const at::Tensor& t) {
    auto host = t.to(at::kCPU).contiguous();
    return std::vector<T>(host.data_ptr<T>(), host.data_ptr<T>() + host.numel());
}

std::vector<uint16_t> toHalfBits(const at::Tensor& t) {
    auto host = t.to(at::kCPU, at::kHalf).contiguous();
    std::vector<uint16_t> bits(host.numel());
    std::memcpy(bits.data(), host.data_ptr<at::Half>(), bits.size() * 2);
    return bits;
}

std::vector<uint16_t> halfBits(std::vector<float> values) {
    return toHalfBits(at::from_blob(values.data(), {int64_t(values.size())}, at::kFloat));
}

// The attention block the probe asks for (float32 scores + probabilities). The fused reduction reads every block
// again right after softmax wrote it, so a block that stays in cache saves it a trip to memory, and the forward's own
// softmax and P·V gain too. But each block re-reads K and V (Hkv·keys·d each) for H·rows·keys probabilities: at least
// 4·d rows keep that under a quarter of the block's own traffic. Measured at T = 4096 on 2 cores: stories260K (d = 8)
// went from 1.8x to 1.3-1.5x of the forward with blocks of 2-8 MiB instead of 64; a 6x512 model (d = 64) was 1.5x
// slower with 2-4 MiB blocks than with 64 MiB. ATTNSCOPE_PROBE_BLOCK_BYTES overrides it for benchmarks.
int64_t probeBlockBytes(const ModelConfig& config, int64_t tokens) {
    if (const char* env = std::getenv("ATTNSCOPE_PROBE_BLOCK_BYTES")) return std::atoll(env);
    const int64_t rowBytes = config.nHeads * tokens * 4 * 2;
    const int64_t cacheSized = int64_t(4) << 20, runtimeDefault = AttentionParams{}.blockBytes;
    return std::clamp(4 * config.headDim * rowBytes, cacheSized, runtimeDefault);
}

// Chunks differ in cost (a zero chunk compresses at once), so threads take them one at a time from a shared counter.
void parallelJobs(int64_t count, const std::function<void(int64_t)>& job) {
    std::atomic<int64_t> next{0};
    at::parallel_for(0, at::get_num_threads(), 1, [&](int64_t, int64_t) {
        for (int64_t j = next++; j < count; j = next++)
            job(j);
    });
}

} // namespace

AttentionProbe::AttentionProbe(const ModelConfig& config, const RunLayout& layout, std::vector<int32_t> ids,
                               RunWriter& writer, bool portable)
    : m_layout(layout), m_ids(std::move(ids)), m_writer(writer), m_tokens(layout.tokens), m_portable(portable),
      m_blockBytes(probeBlockBytes(config, layout.tokens)) {
    if (!m_layout.pyramidLevels.empty()) m_finestLevel = m_layout.pyramidLevels.front();
    m_residualNorms.assign(size_t((config.nLayers + 1) * m_tokens), std::numeric_limits<float>::quiet_NaN());
    const size_t states = size_t(config.nLayers + 1);
    m_residualExtremes.states = int64_t(states);
    m_residualExtremes.absMedian.assign(states, std::numeric_limits<float>::quiet_NaN());
    m_residualExtremes.topValue.assign(states * kResidualTop, 0.0f);
    m_residualExtremes.topToken.assign(states * kResidualTop, -1);
    m_residualExtremes.topDim.assign(states * kResidualTop, -1);
    m_output.loss.assign(size_t(m_tokens), std::numeric_limits<float>::quiet_NaN());
    m_output.topkIds.assign(size_t(m_tokens * kTopK), -1);
    m_output.topkProbs.assign(size_t(m_tokens * kTopK), 0.0f);
}

int64_t AttentionProbe::rowAlignment() const {
    return int64_t(1) << m_finestLevel;
}

int64_t AttentionProbe::blockBytes() const {
    return m_blockBytes;
}

void AttentionProbe::onQkv(int64_t layer, int64_t positionBegin, const at::Tensor& q, const at::Tensor& k,
                           const at::Tensor& v) {
    // A capture is one prefill pass over the whole sequence; each layer starts here.
    m_layer = layer;
    m_rowsDone = 0;
    m_capture = LayerCapture{};
    // float16 hi and lo parts: the file's /qk/q stays float16 for Python users, and hi + lo keeps ~22 bits so that
    // recomputed tiles match the captured probabilities.
    auto split = [](const at::Tensor& x, std::vector<uint16_t>& hi, std::vector<uint16_t>& lo) {
        auto xf = x.to(at::kFloat);
        auto h = xf.to(at::kHalf);
        hi = toHalfBits(h);
        lo = toHalfBits(xf - h.to(at::kFloat));
    };
    split(q, m_capture.q, m_capture.qLo);
    split(k, m_capture.k, m_capture.kLo);
    m_capture.valueNorm = toHost<float>(at::linalg_vector_norm(v.to(at::kFloat), 2, {-1}));
    auto f = at::TensorOptions().dtype(at::kFloat).device(q.device());
    const int64_t H = q.size(0);
    m_received = at::zeros({H, m_tokens}, f);
    m_entropy = at::empty({H, m_tokens}, f);
    m_firstMass = at::empty({H, m_tokens}, f);
    m_lse = at::empty({H, m_tokens}, f);
    m_top1 = at::empty({H, m_tokens}, f.dtype(at::kLong));
    if (m_finestLevel > 0) {
        const int64_t n = pyramidSize(m_tokens, m_finestLevel);
        m_pyramidSums = at::zeros({H, n, n}, f);
        m_pyramidMaxes = at::zeros({H, n, n}, f);
    }
}

void AttentionProbe::onProbs(const AttentionBlock& block, at::Tensor& probs, const at::Tensor& scores) {
    const int64_t r0 = block.queryBegin, B = block.queryCount, K = block.keyCount;
    if (probs.is_cpu() && !m_portable) {
        auto p = probs.contiguous(), s = scores.contiguous();
        BlockReduceTargets t;
        t.tokens = m_tokens;
        t.lse = m_lse.data_ptr<float>();
        t.entropy = m_entropy.data_ptr<float>();
        t.firstMass = m_firstMass.data_ptr<float>();
        t.top1 = m_top1.data_ptr<int64_t>();
        t.received = m_received.data_ptr<float>();
        if (m_finestLevel > 0) {
            t.level = m_finestLevel;
            t.cells = m_pyramidSums.size(1);
            t.pyramidSums = m_pyramidSums.data_ptr<float>();
            t.pyramidMaxes = m_pyramidMaxes.data_ptr<float>();
        }
        reduceBlockCpu(p.data_ptr<float>(), s.data_ptr<float>(), p.size(0), B, K, r0, t);
    } else {
        reduceBlockPortable(r0, B, K, probs, scores);
    }
    if (m_layout.fullProbs) keepProbRows(r0, K, probs);
    m_rowsDone += B;
    if (m_rowsDone == m_tokens) finishLayer();
}

void AttentionProbe::keepProbRows(int64_t r0, int64_t K, const at::Tensor& probs) {
    const int64_t H = probs.size(0), B = probs.size(1), chunkRows = m_writer.probChunkRows();
    if (!m_probRows.defined()) m_probRows = at::zeros({H, chunkRows, m_tokens}, at::kHalf);
    auto host = probs.to(at::kCPU, at::kHalf);
    for (int64_t row = r0; row < r0 + B;) {
        const int64_t bandBegin = row / chunkRows * chunkRows, bandEnd = std::min(bandBegin + chunkRows, m_tokens);
        const int64_t n = std::min(r0 + B, bandEnd) - row;
        // Keys past K stay zero: rows later in a band see more keys, and the buffer is cleared after each band.
        m_probRows.narrow(1, row - bandBegin, n).narrow(2, 0, K).copy_(host.narrow(1, row - r0, n));
        row += n;
        if (row < bandEnd) continue;
        // [H, rows, T] densely: the last chunk row of a map may be shorter than the buffer.
        auto band = m_probRows.narrow(1, 0, bandEnd - bandBegin).contiguous();
        const auto* bits = reinterpret_cast<const uint16_t*>(band.data_ptr<at::Half>());
        auto encoded = std::make_shared<EncodedChunks>(
            m_writer.encodeProbRows(m_layer, bandBegin, bandEnd - bandBegin, bits, parallelJobs));
        m_writes.post([&writer = m_writer, encoded] { writer.write(*encoded); });
        m_probRows.zero_();
    }
}

void AttentionProbe::reduceBlockPortable(int64_t r0, int64_t B, int64_t K, const at::Tensor& probs,
                                         const at::Tensor& scores) {
    m_lse.narrow(1, r0, B).copy_(at::logsumexp(scores, {-1}));
    m_entropy.narrow(1, r0, B).copy_(at::xlogy(probs, probs).sum(-1).neg_());
    m_firstMass.narrow(1, r0, B).copy_(probs.select(-1, 0));
    m_top1.narrow(1, r0, B).copy_(probs.argmax(-1));
    m_received.narrow(1, 0, K).add_(probs.sum(1));
    if (m_finestLevel > 0) poolBlockIntoLevel(probs, r0, m_tokens, m_finestLevel, m_pyramidSums, m_pyramidMaxes);
}

void AttentionProbe::finishLayer() {
    const int64_t T = m_tokens;
    // alpha_k = received_k / (number of queries that see key k) = received_k / (T - k)   (methods.md §1.2)
    auto seen = at::arange(T, 0, -1, m_received.options());
    m_capture.received = toHost<float>(m_received);
    m_capture.alpha = toHost<float>(m_received / seen);
    m_capture.entropy = toHost<float>(m_entropy);
    m_capture.firstMass = toHost<float>(m_firstMass);
    m_capture.lse = toHost<float>(m_lse);
    m_capture.top1 = toHost<int32_t>(m_top1.to(at::kInt));
    if (m_finestLevel > 0) {
        const int64_t heads = m_pyramidSums.size(0);
        int64_t n = m_pyramidSums.size(1);
        std::vector<float> sums = toHost<float>(m_pyramidSums), maxes = toHost<float>(m_pyramidMaxes);
        for (int level : m_layout.pyramidLevels) {
            if (level > m_finestLevel) {
                std::vector<float> coarseSums, coarseMaxes;
                coarsenLevel(sums, maxes, heads, n, coarseSums, coarseMaxes);
                sums = std::move(coarseSums);
                maxes = std::move(coarseMaxes);
                n = (n + 1) / 2;
            }
            m_capture.pyramid.push_back({level, halfBits(pyramidMeans(sums, heads, T, level)), halfBits(maxes)});
        }
    }
    // Compressing is most of a layer's write: it runs here, on every compute thread at once, rather than on the
    // write queue's one thread, which would compete with them for the cores (OpenMP's waiting threads spin) and
    // leave the last layers' compression after the forward. The queue only stores the finished chunks.
    auto encoded = std::make_shared<EncodedChunks>(m_writer.encodeLayer(m_layer, m_capture, parallelJobs));
    m_capture = LayerCapture{};
    m_writes.post([&writer = m_writer, encoded] { writer.write(*encoded); });
    if (onLayerDone) onLayerDone(m_layer);
}

void AttentionProbe::onResidual(int64_t index, int64_t positionBegin, const at::Tensor& x) {
    auto norms = toHost<float>(at::linalg_vector_norm(x.to(at::kFloat), 2, {-1}));
    std::copy(norms.begin(), norms.end(), m_residualNorms.begin() + index * m_tokens + positionBegin);

    // Massive activations (methods.md §1.4) need the median and the largest |x| over the whole state: a capture is
    // one prefill, so x is the whole [T, D] state here.
    if (positionBegin != 0 || x.size(0) != m_tokens) return;
    auto flat = x.to(at::kFloat).reshape({-1});
    auto magnitude = flat.abs();
    const int64_t k = std::min<int64_t>(kResidualTop, flat.numel());
    auto [top, where] = at::topk(magnitude, k);
    auto values = toHost<float>(flat.index_select(0, where));
    auto indexes = toHost<int64_t>(where);
    const int64_t D = x.size(1);
    // at::median is the lower median for an even count, as torch.median in the reference scripts.
    m_residualExtremes.absMedian[size_t(index)] = magnitude.median().item<float>();
    for (int64_t j = 0; j < k; ++j) {
        const size_t at = size_t(index * kResidualTop + j);
        m_residualExtremes.topValue[at] = values[size_t(j)];
        m_residualExtremes.topToken[at] = int32_t(indexes[size_t(j)] / D);
        m_residualExtremes.topDim[at] = int32_t(indexes[size_t(j)] % D);
    }
}

void AttentionProbe::onLogits(int64_t positionBegin, const at::Tensor& logits) {
    const int64_t n = logits.size(0);
    auto logp = at::log_softmax(logits, -1);
    auto [topP, topI] = at::topk(logp, std::min<int64_t>(kTopK, logits.size(1)), -1);
    auto probs = toHost<float>(topP.exp());
    auto ids = toHost<int64_t>(topI);
    const int64_t k = topP.size(1);
    for (int64_t r = 0; r < n; ++r) {
        const int64_t t = positionBegin + r;
        for (int64_t j = 0; j < k; ++j) {
            m_output.topkIds[t * kTopK + j] = static_cast<int32_t>(ids[r * k + j]);
            m_output.topkProbs[t * kTopK + j] = probs[r * k + j];
        }
    }
    // Loss at t is -log p(token t+1 | tokens <= t); the last position has no next token (NaN).
    const int64_t last = std::min(n, m_tokens - 1 - positionBegin);
    if (last > 0) {
        std::vector<int64_t> next(m_ids.begin() + positionBegin + 1, m_ids.begin() + positionBegin + 1 + last);
        auto idx = at::tensor(next, at::kLong).to(logits.device()).unsqueeze(1);
        auto nll = toHost<float>(logp.narrow(0, 0, last).gather(1, idx).squeeze(1).neg());
        std::copy(nll.begin(), nll.end(), m_output.loss.begin() + positionBegin);
    }
}

void AttentionProbe::finish() {
    m_writes.drain(); // the writer is this thread's again
    m_writer.writeResidualNorms(m_residualNorms);
    m_writer.writeResidualExtremes(m_residualExtremes);
    m_writer.writeOutput(m_output);
}

} // namespace attnscope::core

#include "organism/organism_trainer.hpp"

#include "errors.hpp"
#include "jobs/progress.hpp"
#include "model/safetensors.hpp"
#include "organism/organism_vocab.hpp"
#include "runtime/runtime_options.hpp"

#include <nlohmann/json.hpp>
#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <deque>
#include <fstream>
#include <numbers>

namespace attnscope::core {

namespace {

constexpr double kRopeTheta = 10000.0;
constexpr double kRmsEps = 1e-5;
constexpr int64_t kIgnore = -100;

struct Layer {
    torch::Tensor attnNorm, wq, wk, wv, wo, mlpNorm, gate, up, down;
};

torch::Tensor rmsNorm(const torch::Tensor& x, const torch::Tensor& w) {
    return x * torch::rsqrt(x.pow(2).mean(-1, true) + kRmsEps) * w;
}

// HF rotate-half: dimension i pairs with i + d/2. cos/sin [B, 1, T, d/2].
torch::Tensor rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
    const int64_t half = x.size(-1) / 2;
    auto x1 = x.narrow(-1, 0, half), x2 = x.narrow(-1, half, half);
    return torch::cat({x1 * cos - x2 * sin, x2 * cos + x1 * sin}, -1);
}

void check(bool ok, const std::string& sentence) {
    if (!ok) throw ArgumentError(sentence);
}

} // namespace

struct OrganismTrainer::Impl {
    TrainOptions o;
    torch::Device device{torch::kCPU};
    int64_t vocab = 0, headDim = 0;
    std::vector<std::pair<std::string, torch::Tensor>> named; // HF names, in file order
    std::vector<torch::Tensor> parameters;
    torch::Tensor embed, finalNorm;
    std::vector<Layer> layers;
    torch::Tensor ropeCos, ropeSin; // [seqLen, headDim/2] on device
    std::unique_ptr<torch::optim::AdamW> optimizer;
    StoryCorpus corpus;
    int64_t nextSample = 0;
    std::deque<std::pair<std::vector<int32_t>, int64_t>> rows; // packed rows waiting, with their real lengths
    int64_t stepsDone = 0, tokens = 0;
    struct Logged {
        double loss, lr, seconds;
    };
    std::vector<Logged> curve; // one per step, written beside the weights as training_curve.csv
    std::chrono::steady_clock::time_point start;

    explicit Impl(const TrainOptions& options) : o(options), corpus(options.seed, options.story) {}

    torch::Tensor param(const std::string& name, std::vector<int64_t> shape, double std) {
        auto t = std == 0 ? torch::ones(shape) : torch::randn(shape) * std;
        t = t.to(device).set_requires_grad(true);
        named.emplace_back(name, t);
        return t;
    }

    void build() {
        torch::manual_seed(o.seed);
        const int64_t d = o.width;
        // Residual outputs start smaller so the residual stream's variance does not grow with depth (GPT-2's rule).
        const double outStd = o.initStd / std::sqrt(2.0 * double(o.layers));
        embed = param("model.embed_tokens.weight", {vocab, d}, o.initStd);
        for (int64_t l = 0; l < o.layers; ++l) {
            const std::string p = "model.layers." + std::to_string(l) + ".";
            Layer L;
            L.attnNorm = param(p + "input_layernorm.weight", {d}, 0);
            L.wq = param(p + "self_attn.q_proj.weight", {o.heads * headDim, d}, o.initStd);
            L.wk = param(p + "self_attn.k_proj.weight", {o.kvHeads * headDim, d}, o.initStd);
            L.wv = param(p + "self_attn.v_proj.weight", {o.kvHeads * headDim, d}, o.initStd);
            L.wo = param(p + "self_attn.o_proj.weight", {d, o.heads * headDim}, outStd);
            L.mlpNorm = param(p + "post_attention_layernorm.weight", {d}, 0);
            L.gate = param(p + "mlp.gate_proj.weight", {o.ffWidth, d}, o.initStd);
            L.up = param(p + "mlp.up_proj.weight", {o.ffWidth, d}, o.initStd);
            L.down = param(p + "mlp.down_proj.weight", {d, o.ffWidth}, outStd);
            layers.push_back(L);
        }
        finalNorm = param("model.norm.weight", {d}, 0);
        if (!o.initFrom.empty()) loadInitialWeights(o.initFrom / "model.safetensors");

        // Angles in double, as the runtime does, so both see the same table.
        const int64_t half = headDim / 2;
        auto c = torch::empty({o.seqLen, half}), s = torch::empty({o.seqLen, half});
        auto ca = c.accessor<float, 2>(), sa = s.accessor<float, 2>();
        for (int64_t i = 0; i < half; ++i) {
            const double invFreq = 1.0 / std::pow(kRopeTheta, double(2 * i) / double(headDim));
            for (int64_t p = 0; p < o.seqLen; ++p) {
                ca[p][i] = static_cast<float>(std::cos(double(p) * invFreq));
                sa[p][i] = static_cast<float>(std::sin(double(p) * invFreq));
            }
        }
        ropeCos = c.to(device);
        ropeSin = s.to(device);

        std::vector<torch::Tensor> decay, noDecay;
        for (auto& [name, t] : named) {
            parameters.push_back(t);
            (t.dim() >= 2 ? decay : noDecay).push_back(t);
        }
        std::vector<torch::optim::OptimizerParamGroup> groups;
        auto opts = [&](double wd) {
            return std::make_unique<torch::optim::AdamWOptions>(
                torch::optim::AdamWOptions(o.lr).betas({0.9, 0.95}).weight_decay(wd));
        };
        groups.emplace_back(decay, opts(o.weightDecay));
        groups.emplace_back(noDecay, opts(0.0));
        optimizer = std::make_unique<torch::optim::AdamW>(std::move(groups));
    }

    void loadInitialWeights(const std::filesystem::path& file) {
        const TensorSet stored = readSafetensors(file);
        torch::NoGradGuard noGrad;
        for (auto& [name, t] : named) {
            const auto it = stored.find(name);
            if (it == stored.end())
                throw ArgumentError("The organism '" + file.string() + "' has no tensor '" + name + "' to start from.");
            const RawTensor& raw = it->second;
            const bool olderVocab = name == "model.embed_tokens.weight" && raw.shape.size() == 2 &&
                                    raw.shape[0] <= t.size(0) && raw.shape[1] == t.size(1);
            if (raw.shape != t.sizes().vec() && !olderVocab)
                throw ArgumentError("The tensor '" + name + "' of '" + file.string() +
                                    "' does not have the shape these training options give it.");
            std::vector<float> values = toFloat32(raw);
            auto source = torch::from_blob(values.data(), raw.shape, torch::kFloat);
            t.narrow(0, 0, raw.shape[0]).copy_(source);
        }
    }

    // ids [B, T] int64 on device; every sample in a row starts with <bos>: positions restart there and attention
    // stays inside the sample, so training sees exactly what the runtime sees on one story.
    torch::Tensor forward(const torch::Tensor& ids) const {
        const int64_t B = ids.size(0), T = ids.size(1), H = o.heads, Hkv = o.kvHeads;
        auto index = torch::arange(T, ids.options()).unsqueeze(0).expand({B, T});
        auto isBos = ids == OrganismVocab::kBos;
        auto segment = isBos.to(torch::kLong).cumsum(1);
        auto segStart = std::get<0>(torch::where(isBos, index, torch::zeros_like(index)).cummax(1));
        auto positions = index - segStart;
        auto causal = torch::ones({T, T}, ids.options().dtype(torch::kBool)).tril();
        auto allowed = (segment.unsqueeze(2) == segment.unsqueeze(1)).logical_and(causal).unsqueeze(1);
        // An additive mask and a pre-scaled q keep the [B, H, T, T] tensor to matmul + add + softmax: each extra
        // elementwise pass over it (and its backward) costs more than the matmuls at this width.
        auto maskBias = torch::zeros(allowed.sizes(), embed.options().requires_grad(false))
                            .masked_fill_(allowed.logical_not(), -INFINITY);
        auto cos = ropeCos.index_select(0, positions.flatten()).view({B, 1, T, headDim / 2});
        auto sin = ropeSin.index_select(0, positions.flatten()).view({B, 1, T, headDim / 2});
        const double scale = 1.0 / std::sqrt(double(headDim));

        auto x = torch::embedding(embed, ids);
        for (const Layer& L : layers) {
            auto h = rmsNorm(x, L.attnNorm);
            auto q = rope(torch::linear(h, L.wq).view({B, T, H, headDim}).transpose(1, 2), cos, sin);
            auto k = rope(torch::linear(h, L.wk).view({B, T, Hkv, headDim}).transpose(1, 2), cos, sin);
            auto v = torch::linear(h, L.wv).view({B, T, Hkv, headDim}).transpose(1, 2);
            if (H != Hkv) { // HF repeat_kv: query head h reads KV head h / (H / Hkv)
                k = k.repeat_interleave(H / Hkv, 1);
                v = v.repeat_interleave(H / Hkv, 1);
            }
            auto scores = torch::matmul(q * scale, k.transpose(-1, -2)) + maskBias;
            auto probs = torch::softmax(scores, -1);
            auto attn = torch::matmul(probs, v).transpose(1, 2).reshape({B, T, H * headDim});
            x = x + torch::linear(attn, L.wo);
            h = rmsNorm(x, L.mlpNorm);
            x = x + torch::linear(torch::silu(torch::linear(h, L.gate)) * torch::linear(h, L.up), L.down);
        }
        return torch::linear(rmsNorm(x, finalNorm), embed);
    }

    void refill() {
        const int64_t count = std::max<int64_t>(64, 4 * o.batch);
        auto packed = packSamples(corpus.samples(CorpusSplit::Train, nextSample, count), o.seqLen);
        nextSample += count;
        for (int64_t r = 0; r < packed.rows; ++r) {
            auto first = packed.ids.begin() + r * o.seqLen;
            rows.emplace_back(std::vector<int32_t>(first, first + o.seqLen), packed.lengths[r]);
        }
    }

    double learningRate(int64_t step) const {
        const int64_t warm = o.warmupSteps >= 0 ? o.warmupSteps : std::max<int64_t>(1, o.steps / 20);
        if (step < warm) return o.lr * double(step + 1) / double(warm);
        const double t = std::min(1.0, double(step - warm) / double(std::max<int64_t>(1, o.steps - warm)));
        return o.lr * (o.minLrFraction + (1.0 - o.minLrFraction) * 0.5 * (1.0 + std::cos(std::numbers::pi * t)));
    }
};

OrganismTrainer::OrganismTrainer(const TrainOptions& options) : m_impl(std::make_unique<Impl>(options)) {
    const TrainOptions& o = options;
    check(o.steps >= 1 && o.batch >= 1 && o.layers >= 1 && o.threads >= 0,
          "Steps, batch and layers must each be at least 1, and threads not negative.");
    check(o.heads >= 1 && o.kvHeads >= 1 && o.heads % o.kvHeads == 0,
          "The number of heads must be a positive multiple of the number of KV heads.");
    check(o.width % o.heads == 0 && (o.width / o.heads) % 2 == 0,
          "The width must be divisible by the number of heads into an even head dimension.");
    check(o.ffWidth >= 1 && o.lr > 0 && o.gradClip > 0,
          "The MLP width, learning rate and gradient clip must be positive.");
    check(maxSampleLength(o.story) <= o.seqLen, "The sequence length " + std::to_string(o.seqLen) +
                                                    " is shorter than the longest story (" +
                                                    std::to_string(maxSampleLength(o.story)) + " tokens).");
    m_impl->device = torch::Device(parseDevice(o.device));
    if (m_impl->device.is_cuda() && !torch::cuda::is_available())
        throw UnsupportedError("The device '" + o.device + "' is not available: this libtorch has no usable CUDA.");
    // libtorch starts with one intra-op thread here; the runtime makes the same process-wide choice.
    at::set_num_threads(o.threads > 0 ? o.threads : availableThreads());
    m_impl->vocab = organismVocab().size();
    m_impl->headDim = o.width / o.heads;
    m_impl->build();
}

OrganismTrainer::~OrganismTrainer() = default;

TrainStep OrganismTrainer::step() {
    Impl& m = *m_impl;
    if (m.stepsDone == 0) m.start = std::chrono::steady_clock::now();
    while (static_cast<int64_t>(m.rows.size()) < m.o.batch)
        m.refill();
    std::vector<int64_t> ids(static_cast<size_t>(m.o.batch * m.o.seqLen));
    int64_t real = 0;
    for (int64_t b = 0; b < m.o.batch; ++b) {
        const auto& [row, length] = m.rows.front();
        std::copy(row.begin(), row.end(), ids.begin() + b * m.o.seqLen);
        real += length;
        m.rows.pop_front();
    }
    auto input = torch::from_blob(ids.data(), {m.o.batch, m.o.seqLen}, torch::kLong).to(m.device);
    // Next-token targets; <pad> and the <bos> that starts the next packed story are not predicted.
    auto next = input.narrow(1, 1, m.o.seqLen - 1);
    auto targets = next.masked_fill((next == OrganismVocab::kPad).logical_or(next == OrganismVocab::kBos), kIgnore);

    const double lr = m.learningRate(m.stepsDone);
    for (auto& g : m.optimizer->param_groups())
        static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
    m.optimizer->zero_grad();
    auto logits = m.forward(input).narrow(1, 0, m.o.seqLen - 1);
    auto loss =
        torch::nn::functional::cross_entropy(logits.reshape({-1, m.vocab}), targets.reshape({-1}),
                                             torch::nn::functional::CrossEntropyFuncOptions().ignore_index(kIgnore));
    loss.backward();
    torch::nn::utils::clip_grad_norm_(m.parameters, m.o.gradClip);
    m.optimizer->step();

    m.stepsDone += 1;
    m.tokens += real;
    TrainStep s;
    s.step = m.stepsDone;
    s.loss = loss.item<double>();
    s.tokens = m.tokens;
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - m.start).count();
    s.tokensPerSecond = s.seconds > 0 ? double(m.tokens) / s.seconds : 0.0;
    m.curve.push_back({s.loss, lr, s.seconds});
    return s;
}

std::vector<float> OrganismTrainer::logits(std::span<const int32_t> ids) const {
    check(!ids.empty() && static_cast<int64_t>(ids.size()) <= m_impl->o.seqLen,
          "A sequence for the trainer's forward must hold between 1 and seqLen ids.");
    torch::NoGradGuard noGrad;
    std::vector<int64_t> wide(ids.begin(), ids.end());
    auto input = torch::from_blob(wide.data(), {1, int64_t(wide.size())}, torch::kLong).to(m_impl->device);
    auto out = m_impl->forward(input).squeeze(0).to(torch::kCPU, torch::kFloat).contiguous();
    return {out.data_ptr<float>(), out.data_ptr<float>() + out.numel()};
}

void OrganismTrainer::save(const std::filesystem::path& target) const {
    namespace fs = std::filesystem;
    const Impl& m = *m_impl;
    const fs::path folder = target.has_filename() ? target : target.parent_path();
    const fs::path tmp = folder.string() + ".tmp-" + std::to_string(::getpid());
    std::error_code ec;
    fs::remove_all(tmp, ec);
    fs::create_directories(tmp, ec);
    if (ec) throw FileError("Cannot create the folder '" + tmp.string() + "': " + ec.message() + ".");

    torch::NoGradGuard noGrad;
    std::vector<torch::Tensor> host; // keeps the bytes alive until written
    std::vector<TensorToWrite> tensors;
    for (const auto& [name, t] : m.named) {
        host.push_back(t.detach().to(torch::kCPU, torch::kFloat).contiguous());
        tensors.push_back({name, DType::F32, host.back().sizes().vec(), host.back().data_ptr()});
    }
    writeSafetensors(tmp / "model.safetensors", tensors, {{"format", "pt"}});

    const TrainOptions& o = m.o;
    nlohmann::json c;
    c["model_type"] = "llama";
    c["architectures"] = {"LlamaForCausalLM"};
    c["vocab_size"] = m.vocab;
    c["hidden_size"] = o.width;
    c["intermediate_size"] = o.ffWidth;
    c["num_hidden_layers"] = o.layers;
    c["num_attention_heads"] = o.heads;
    c["num_key_value_heads"] = o.kvHeads;
    c["max_position_embeddings"] = o.seqLen;
    c["hidden_act"] = "silu";
    c["rms_norm_eps"] = kRmsEps;
    c["rope_theta"] = kRopeTheta;
    c["tie_word_embeddings"] = true;
    c["attention_bias"] = false;
    c["bos_token_id"] = OrganismVocab::kBos;
    c["eos_token_id"] = OrganismVocab::kEos;
    c["pad_token_id"] = OrganismVocab::kPad;
    c["torch_dtype"] = "float32";
    c["attnscope_training"] = {{"seed", o.seed},      {"steps", m.stepsDone}, {"batch", o.batch},
                               {"seq_len", o.seqLen}, {"lr", o.lr},           {"weight_decay", o.weightDecay}};
    if (!o.initFrom.empty()) {
        c["attnscope_training"]["init_from"] = o.initFrom.filename().string();
        // The parent's own record, nested, so a continued organism's config names every stage that made it.
        std::ifstream parentConfig(o.initFrom / "config.json");
        const auto parent = nlohmann::json::parse(parentConfig, nullptr, /*allow_exceptions=*/false);
        if (parent.is_object() && parent.contains("attnscope_training"))
            c["attnscope_training"]["init_training"] = parent["attnscope_training"];
    }
    if (o.story.unanswerableShare > 0) c["attnscope_training"]["unanswerable_share"] = o.story.unanswerableShare;
    if (o.story.echoShare > 0) c["attnscope_training"]["echo_share"] = o.story.echoShare;
    if (o.story.mentionShare > 0) c["attnscope_training"]["mention_share"] = o.story.mentionShare;
    if (o.story.maxRepeatGap > 0) {
        c["attnscope_training"]["repeat_gap"] = {o.story.minRepeatGap, o.story.maxRepeatGap};
        c["attnscope_training"]["repeat_gap_share"] = o.story.repeatGapShare;
    }
    std::ofstream config(tmp / "config.json");
    config << c.dump(2) << "\n";
    config.close();
    if (!config) throw FileError("Cannot write '" + (tmp / "config.json").string() + "'.");
    organismVocab().writeHfTokenizer(tmp, o.seqLen);

    std::ofstream curve(tmp / "training_curve.csv");
    curve << "step,loss,lr,seconds\n";
    for (size_t i = 0; i < m.curve.size(); ++i)
        curve << i + 1 << ',' << m.curve[i].loss << ',' << m.curve[i].lr << ',' << m.curve[i].seconds << '\n';
    curve.close();
    if (!curve) throw FileError("Cannot write '" + (tmp / "training_curve.csv").string() + "'.");

    fs::remove_all(folder, ec);
    fs::rename(tmp, folder, ec);
    if (ec) throw FileError("Cannot move '" + tmp.string() + "' to '" + folder.string() + "': " + ec.message() + ".");
}

const TrainOptions& OrganismTrainer::options() const {
    return m_impl->o;
}
int64_t OrganismTrainer::stepsDone() const {
    return m_impl->stepsDone;
}

int64_t OrganismTrainer::parameterCount() const {
    int64_t n = 0;
    for (const auto& [name, t] : m_impl->named)
        n += t.numel();
    return n;
}

TrainResult trainOrganism(const TrainOptions& options, Progress* progress, const TrainCallback& onStep) {
    OrganismTrainer trainer(options);
    if (progress) progress->begin("train", options.steps);
    TrainResult r;
    TrainStep s;
    for (int64_t i = 0; i < options.steps; ++i) {
        if (progress && progress->cancelled()) throw Cancelled();
        s = trainer.step();
        r.losses.push_back(s.loss);
        if (progress) progress->advance();
        if (onStep) onStep(s);
    }
    r.seconds = s.seconds;
    r.tokensPerSecond = s.tokensPerSecond;
    r.tokens = s.tokens;
    if (!options.outDir.empty()) {
        trainer.save(options.outDir);
        r.folder = options.outDir;
    }
    return r;
}

} // namespace attnscope::core

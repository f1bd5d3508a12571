#include "support/naive_forward.hpp"

#include <cmath>

namespace attnscope::test {

namespace {

using Vec = std::vector<double>;

// y = W x for W stored [out][in] (nn.Linear).
Vec linear(const std::vector<float>& W, const Vec& x, int64_t out, const std::vector<float>* bias = nullptr) {
    const int64_t in = static_cast<int64_t>(x.size());
    Vec y(out, 0.0);
    for (int64_t o = 0; o < out; ++o) {
        double s = bias ? (*bias)[o] : 0.0;
        for (int64_t i = 0; i < in; ++i) s += double(W[o * in + i]) * x[i];
        y[o] = s;
    }
    return y;
}

// y = x W for W stored [in][out] (GPT-2's Conv1D).
Vec conv1d(const std::vector<float>& W, const std::vector<float>& b, const Vec& x, int64_t out) {
    const int64_t in = static_cast<int64_t>(x.size());
    Vec y(out, 0.0);
    for (int64_t o = 0; o < out; ++o) {
        double s = b[o];
        for (int64_t i = 0; i < in; ++i) s += x[i] * double(W[i * out + o]);
        y[o] = s;
    }
    return y;
}

Vec rmsNorm(const Vec& x, const std::vector<float>& w, double eps) {
    double ms = 0;
    for (double v : x) ms += v * v;
    ms /= double(x.size());
    Vec y(x.size());
    for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] / std::sqrt(ms + eps) * w[i];
    return y;
}

Vec layerNorm(const Vec& x, const std::vector<float>& w, const std::vector<float>& b, double eps) {
    double mean = 0, var = 0;
    for (double v : x) mean += v;
    mean /= double(x.size());
    for (double v : x) var += (v - mean) * (v - mean);
    var /= double(x.size());
    Vec y(x.size());
    for (size_t i = 0; i < x.size(); ++i) y[i] = (x[i] - mean) / std::sqrt(var + eps) * w[i] + b[i];
    return y;
}

double geluTanh(double x) { return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x))); }

// HF rotate_half: pairs (i, i + d/2) rotated by position * theta^(-2i/d).
void ropeHalf(Vec& v, int64_t headOffset, int64_t d, int64_t pos, double theta) {
    for (int64_t i = 0; i < d / 2; ++i) {
        const double angle = double(pos) * std::pow(theta, -2.0 * double(i) / double(d));
        const double a = v[headOffset + i], b = v[headOffset + i + d / 2];
        v[headOffset + i] = a * std::cos(angle) - b * std::sin(angle);
        v[headOffset + i + d / 2] = b * std::cos(angle) + a * std::sin(angle);
    }
}

} // namespace

NaiveOutput naiveForward(const TinySpec& s, const TinyWeights& w, const std::vector<int32_t>& ids,
                         const NaiveEdits* edits) {
    const bool gpt2 = s.modelType == "gpt2";
    const int64_t T = static_cast<int64_t>(ids.size()), D = s.dModel, H = s.nHeads;
    const int64_t Hkv = gpt2 ? H : s.nKvHeads, d = D / H, G = H / Hkv;
    const double eps = 1e-5;
    const auto& emb = w.at(gpt2 ? "wte.weight" : "model.embed_tokens.weight");

    std::vector<Vec> x(T, Vec(D));
    for (int64_t t = 0; t < T; ++t)
        for (int64_t i = 0; i < D; ++i)
            x[t][i] = emb[ids[t] * D + i] + (gpt2 ? double(w.at("wpe.weight")[t * D + i]) : 0.0);

    NaiveOutput out;
    for (int64_t l = 0; l < s.nLayers; ++l) {
        const std::string p = (gpt2 ? "h." : "model.layers.") + std::to_string(l) + ".";
        std::vector<Vec> q(T), k(T), v(T);
        for (int64_t t = 0; t < T; ++t) {
            if (gpt2) {
                Vec h = layerNorm(x[t], w.at(p + "ln_1.weight"), w.at(p + "ln_1.bias"), eps);
                Vec qkv = conv1d(w.at(p + "attn.c_attn.weight"), w.at(p + "attn.c_attn.bias"), h, 3 * D);
                q[t].assign(qkv.begin(), qkv.begin() + D);
                k[t].assign(qkv.begin() + D, qkv.begin() + 2 * D);
                v[t].assign(qkv.begin() + 2 * D, qkv.end());
                continue;
            }
            Vec h = rmsNorm(x[t], w.at(p + "input_layernorm.weight"), eps);
            auto bias = [&](const char* n) { return s.qkvBias ? &w.at(p + "self_attn." + n + ".bias") : nullptr; };
            q[t] = linear(w.at(p + "self_attn.q_proj.weight"), h, H * d, bias("q_proj"));
            k[t] = linear(w.at(p + "self_attn.k_proj.weight"), h, Hkv * d, bias("k_proj"));
            v[t] = linear(w.at(p + "self_attn.v_proj.weight"), h, Hkv * d, bias("v_proj"));
            for (int64_t hh = 0; hh < H; ++hh) ropeHalf(q[t], hh * d, d, t, 10000.0);
            for (int64_t hh = 0; hh < Hkv; ++hh) ropeHalf(k[t], hh * d, d, t, 10000.0);
        }
        out.probs.emplace_back(H, std::vector<Vec>(T, Vec(T, 0.0)));
        std::vector<Vec> attn(T, Vec(H * d, 0.0));
        for (int64_t hh = 0; hh < H; ++hh) {
            const int64_t kvh = hh / G;
            for (int64_t t = 0; t < T; ++t) {
                Vec sc(t + 1);
                double mx = -1e300;
                for (int64_t j = 0; j <= t; ++j) {
                    double dot = 0;
                    for (int64_t i = 0; i < d; ++i) dot += q[t][hh * d + i] * k[j][kvh * d + i];
                    sc[j] = dot / std::sqrt(double(d));
                    mx = std::max(mx, sc[j]);
                }
                double z = 0;
                for (double& e : sc) z += (e = std::exp(e - mx));
                for (int64_t j = 0; j <= t; ++j) out.probs[l][hh][t][j] = sc[j] / z;
            }
            if (edits && edits->probs) edits->probs(l, hh, out.probs[l][hh]);
            for (int64_t t = 0; t < T; ++t)
                for (int64_t j = 0; j <= t; ++j)
                    for (int64_t i = 0; i < d; ++i) attn[t][hh * d + i] += out.probs[l][hh][t][j] * v[j][kvh * d + i];
        }
        if (edits && edits->headOutputs) edits->headOutputs(l, attn);
        for (int64_t t = 0; t < T; ++t) {
            Vec o = gpt2 ? conv1d(w.at(p + "attn.c_proj.weight"), w.at(p + "attn.c_proj.bias"), attn[t], D)
                         : linear(w.at(p + "self_attn.o_proj.weight"), attn[t], D);
            for (int64_t i = 0; i < D; ++i) x[t][i] += o[i];
            Vec m;
            if (gpt2) {
                Vec h = layerNorm(x[t], w.at(p + "ln_2.weight"), w.at(p + "ln_2.bias"), eps);
                Vec a = conv1d(w.at(p + "mlp.c_fc.weight"), w.at(p + "mlp.c_fc.bias"), h, s.dFf);
                for (double& e : a) e = geluTanh(e);
                m = conv1d(w.at(p + "mlp.c_proj.weight"), w.at(p + "mlp.c_proj.bias"), a, D);
            } else {
                Vec h = rmsNorm(x[t], w.at(p + "post_attention_layernorm.weight"), eps);
                Vec g = linear(w.at(p + "mlp.gate_proj.weight"), h, s.dFf);
                Vec u = linear(w.at(p + "mlp.up_proj.weight"), h, s.dFf);
                for (int64_t i = 0; i < s.dFf; ++i) g[i] = g[i] / (1.0 + std::exp(-g[i])) * u[i];
                m = linear(w.at(p + "mlp.down_proj.weight"), g, D);
            }
            for (int64_t i = 0; i < D; ++i) x[t][i] += m[i];
        }
    }
    const auto& head = gpt2 || s.tied ? emb : w.at("lm_head.weight");
    for (int64_t t = 0; t < T; ++t) {
        Vec h = gpt2 ? layerNorm(x[t], w.at("ln_f.weight"), w.at("ln_f.bias"), eps)
                     : rmsNorm(x[t], w.at("model.norm.weight"), eps);
        out.logits.push_back(linear(head, h, s.vocab));
    }
    return out;
}

} // namespace attnscope::test

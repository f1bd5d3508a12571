// Acceptance at length: capture 16384 tokens with --full never in a child process, bound its peak memory, and
// check a recomputed tile far from the diagonal against a direct computation of those probabilities.
#include "model/tokenizer.hpp"
#include "runtime/attention_hook.hpp"
#include "runtime/transformer.hpp"
#include "store/run_reader.hpp"
#include "support/test_paths.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace attnscope;

namespace {

constexpr int64_t kTokens = 16384;
constexpr int64_t kCorner = 32;

// Keeps probabilities of the last kCorner query rows on the first kCorner keys, for every layer and head.
class CornerHook : public core::AttentionHook {
public:
    explicit CornerHook(int64_t heads) : m_heads(heads) {}
    void onProbs(const core::AttentionBlock& b, at::Tensor& probs, const at::Tensor&) override {
        for (int64_t r = 0; r < b.queryCount; ++r) {
            const int64_t q = b.queryBegin + r;
            if (q < kTokens - kCorner) continue;
            auto rows = probs.select(1, r).narrow(1, 0, kCorner).contiguous();
            corner[b.layer].resize(size_t(m_heads * kCorner * kCorner));
            for (int64_t h = 0; h < m_heads; ++h)
                for (int64_t k = 0; k < kCorner; ++k)
                    corner[b.layer][size_t((h * kCorner + (q - (kTokens - kCorner))) * kCorner + k)] =
                        rows[h][k].item<float>();
        }
    }
    std::map<int64_t, std::vector<float>> corner;

private:
    int64_t m_heads;
};

// Runs the CLI and returns its exit status and peak resident memory in bytes.
std::pair<int, int64_t> runMeasured(const std::vector<std::string>& args) {
    pid_t pid = ::fork();
    if (pid == 0) {
        std::vector<char*> argv;
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    int status = 0;
    struct rusage usage {};
    ::wait4(pid, &status, 0, &usage);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, int64_t(usage.ru_maxrss) * 1024};
}

} // namespace

TEST(CaptureLong, SixteenThousandTokensWithoutFullMapsStaysSmallAndExact) {
    ATTNSCOPE_REQUIRE_SHARED();
    auto dir = test::scratchDir("long");
    // A long prompt from the reference story repeated: ~2 characters per token, so 40K characters is enough;
    // the model's own tokens after that are not needed.
    std::string story = test::readBinary<char>(test::stories260KDir() / "reference/greedy_empty_prompt_n256.txt");
    std::string text;
    while (text.size() < 40000) text += story;
    auto model = core::Transformer::load(test::stories260KDir() / "stories260K.gguf", {});
    auto ids = model->tokenizer().encode(text).ids;
    ASSERT_GT(int64_t(ids.size()), kTokens);
    // Cut the text at the byte where token kTokens starts, so the capture sees exactly kTokens tokens.
    auto enc = model->tokenizer().encode(text);
    text = text.substr(0, size_t(enc.spans[kTokens].begin));
    std::ofstream(dir / "prompt.txt", std::ios::binary) << text;

    const auto run = dir / "long.attn.h5";
    auto [code, peak] = runMeasured({std::getenv("ATTNSCOPE_CLI"), "capture",
                                     (test::stories260KDir() / "stories260K.gguf").string(), "--prompt-file",
                                     (dir / "prompt.txt").string(), "--full", "never", "--out", run.string()});
    ASSERT_EQ(code, 0);
    RecordProperty("peak_rss_bytes", std::to_string(peak));
    EXPECT_LT(peak, int64_t(2.5 * (1ll << 30))) << "peak RSS " << peak / (1 << 20) << " MiB";

    core::RunReader reader(run);
    ASSERT_EQ(reader.layout().tokens, kTokens);
    EXPECT_FALSE(reader.layout().fullProbs);
    auto summary = reader.summary();
    EXPECT_TRUE(summary.qk && summary.stats);
    EXPECT_FALSE(summary.pyramidLevels.empty());

    // Direct computation: the same tokens through the model with a hook that keeps the far corner.
    CornerHook hook(8);
    model->forward(reader.tokens().ids, nullptr, &hook, core::Logits::Last);
    for (int64_t l : {0, 2, 4})
        for (int64_t h : {0, 5}) {
            core::Tile tile = reader.tile(l, h, 0, kTokens - kCorner, 0, kCorner);
            ASSERT_EQ(tile.source, core::TileSource::Recomputed);
            for (size_t i = 0; i < tile.values.size(); ++i) {
                const float direct = hook.corner[l][size_t(h * kCorner * kCorner) + i];
                // Recomputed from the hi + lo float16 Q/K (~22 bits) and the float32 LSE: float32 accuracy.
                ASSERT_NEAR(tile.values[i], direct, 1e-5 + 1e-4 * direct) << "layer " << l << " head " << h;
            }
        }
}

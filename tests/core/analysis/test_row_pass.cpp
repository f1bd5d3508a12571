// The row pass: every head's rows reach every visitor once and intact, serial visitors in the documented order,
// visitors that take heads at once from several threads; a visitor's exception comes back to the caller; the pass's
// buffer stays bounded however many rows the source prefers.
#include "analysis/row_pass.hpp"
#include "attention_fixtures.hpp"
#include "errors.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>
#include <vector>

using namespace attnscope;

namespace {

// Checks each block against the source's own rows and records what it was shown.
class RecordingVisitor final : public core::RowVisitor {
public:
    RecordingVisitor(core::DenseAttention& truth, bool parallel, int64_t rowEnd = -1)
        : m_truth(truth), m_parallel(parallel), m_rowEnd(rowEnd < 0 ? truth.length() : rowEnd) {}
    int64_t rowEnd() const override { return m_rowEnd; }
    bool headsInParallel() const override { return m_parallel; }
    void visit(int64_t layer, int64_t head, int64_t row0, int64_t count, std::span<const float> rows) override {
        const int64_t T = m_truth.length();
        bool same = int64_t(rows.size()) == count * T;
        for (int64_t i = 0; same && i < count; ++i)
            for (int64_t k = 0; k < T; ++k)
                same = same && rows[size_t(i * T + k)] == m_truth.at(layer, head, row0 + i, k);
        const std::lock_guard lock(m_mutex);
        m_visits.emplace_back(layer, head, row0, count);
        m_allSame = m_allSame && same;
        m_threads.insert(std::this_thread::get_id());
        if (m_parallel) std::this_thread::sleep_for(std::chrono::milliseconds(2)); // lets other heads overlap
    }
    void blockDone(int64_t layer, int64_t row0, int64_t) override {
        const std::lock_guard lock(m_mutex);
        m_blocks.emplace_back(layer, row0);
    }

    std::vector<std::tuple<int64_t, int64_t, int64_t, int64_t>> m_visits; // layer, head, row0, count
    std::vector<std::pair<int64_t, int64_t>> m_blocks;
    std::set<std::thread::id> m_threads;
    bool m_allSame = true;

private:
    core::DenseAttention& m_truth;
    bool m_parallel;
    int64_t m_rowEnd;
    std::mutex m_mutex;
};

} // namespace

TEST(RowPass, EveryVisitorSeesEveryHeadsRowsOnceAndSerialOnesInOrder) {
    const int64_t L = 3, H = 5, T = 70, block = 16;
    core::DenseAttention map = test::randomCausal(L, H, T, 11);
    test::ChunkedSource source(map, block);
    RecordingVisitor serial(map, false), parallel(map, true), shortOne(map, true, 20);
    core::RowVisitor* visitors[] = {&serial, &parallel, &shortOne};
    std::vector<int64_t> layersDone;
    core::streamRows(source, visitors, [&](int64_t done) { layersDone.push_back(done); });
    EXPECT_EQ(layersDone, (std::vector<int64_t>{1, 2, 3}));
    EXPECT_EQ(source.calls(), L * H * 5); // each head's block made once for all three visitors (70 rows = 5 blocks)

    // The serial visitor: layers from the last, blocks ascending, heads ascending.
    std::vector<std::tuple<int64_t, int64_t, int64_t, int64_t>> expected;
    for (int64_t l = L - 1; l >= 0; --l)
        for (int64_t row0 = 0; row0 < T; row0 += block)
            for (int64_t h = 0; h < H; ++h)
                expected.emplace_back(l, h, row0, std::min(block, T - row0));
    EXPECT_EQ(serial.m_visits, expected);
    EXPECT_TRUE(serial.m_allSame);
    EXPECT_EQ(serial.m_threads.size(), 1u);

    // The parallel one: the same visits in some order, each head's blocks still ascending, every block's heads done
    // before its blockDone (the recorded order of blocks is the pass's).
    auto sorted = parallel.m_visits;
    std::sort(sorted.begin(), sorted.end());
    auto expectedSorted = expected;
    std::sort(expectedSorted.begin(), expectedSorted.end());
    EXPECT_EQ(sorted, expectedSorted);
    EXPECT_TRUE(parallel.m_allSame);
    for (int64_t l = 0; l < L; ++l)
        for (int64_t h = 0; h < H; ++h) {
            int64_t last = -1;
            for (const auto& [vl, vh, row0, count] : parallel.m_visits)
                if (vl == l && vh == h) {
                    EXPECT_GT(row0, last);
                    last = row0;
                }
        }
    EXPECT_EQ(parallel.m_blocks, serial.m_blocks);
    if (std::thread::hardware_concurrency() > 1) EXPECT_GT(parallel.m_threads.size(), 1u);

    // A visitor needing rows [0, 20) sees the first two blocks only.
    for (const auto& [l, h, row0, count] : shortOne.m_visits)
        EXPECT_LT(row0, 20);
    EXPECT_EQ(shortOne.m_visits.size(), size_t(L * H * 2));
}

namespace {

class ThrowingVisitor final : public core::RowVisitor {
public:
    int64_t rowEnd() const override { return 1 << 20; }
    bool headsInParallel() const override { return true; }
    void visit(int64_t layer, int64_t head, int64_t, int64_t, std::span<const float>) override {
        ++m_visits;
        if (layer == 1 && head == 2) throw core::ArgumentError("head L1H2 cannot be scored");
    }
    std::atomic<int> m_visits{0};
};

} // namespace

TEST(RowPass, AVisitorsExceptionReachesTheCaller) {
    core::DenseAttention map = test::uniformCausal(2, 4, 10);
    ThrowingVisitor visitor;
    try {
        core::streamRows(map, visitor);
        FAIL() << "the visitor's exception was lost";
    } catch (const core::ArgumentError& e) {
        EXPECT_STREQ(e.what(), "head L1H2 cannot be scored");
    }
    EXPECT_EQ(visitor.m_visits.load(), 4); // layer 1 is visited first; its block ends, then the pass stops
}

namespace {

// A source of any size that makes its rows on demand (row q of every head: all attention on key q).
class DiagonalSource final : public core::AttentionSource {
public:
    DiagonalSource(int64_t heads, int64_t length) : m_heads(heads), m_length(length) {}
    int64_t layers() const override { return 1; }
    int64_t heads() const override { return m_heads; }
    int64_t length() const override { return m_length; }
    int64_t preferredRows() const override { return 1 << 20; }
    void rows(int64_t, int64_t, int64_t row0, int64_t count, std::span<float> out) override {
        std::fill(out.begin(), out.begin() + count * m_length, 0.0f);
        for (int64_t i = 0; i < count; ++i)
            out[size_t(i * m_length + row0 + i)] = 1.0f;
        maxCount = std::max(maxCount, count);
    }
    int64_t maxCount = 0;

private:
    int64_t m_heads, m_length;
};

class CountingVisitor final : public core::RowVisitor {
public:
    explicit CountingVisitor(int64_t rowEnd) : m_rowEnd(rowEnd) {}
    int64_t rowEnd() const override { return m_rowEnd; }
    void visit(int64_t, int64_t, int64_t row0, int64_t count, std::span<const float> rows) override {
        const int64_t T = int64_t(rows.size()) / count;
        for (int64_t i = 0; i < count; ++i)
            diagonal += rows[size_t(i * T + row0 + i)];
    }
    double diagonal = 0;

private:
    int64_t m_rowEnd;
};

} // namespace

// 16 heads x 16384 keys: a block of every head is 1 MiB per row, so the pass's 256 MiB hold 256 rows, not the
// source's preferred million.
TEST(RowPass, TheBufferOfEveryHeadsBlockStaysBounded) {
    DiagonalSource source(16, 16384);
    CountingVisitor visitor(600);
    core::streamRows(source, visitor);
    EXPECT_EQ(source.maxCount, 256);
    EXPECT_EQ(visitor.diagonal, 16.0 * 600);
}

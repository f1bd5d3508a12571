#include "analysis/row_pass.hpp"

#include <algorithm>
#include <exception>
#include <vector>

namespace attnscope::core {

namespace {

// The pass holds one row block of every head of a layer; past this the blocks get fewer rows.
constexpr int64_t kPassBufferBytes = int64_t(256) << 20;

// Head h's rows [row0, row0 + count) in the pass's buffer.
std::span<const float> headRows(std::span<const float> buffer, int64_t h, int64_t headStride, int64_t count,
                                int64_t T) {
    return buffer.subspan(size_t(h * headStride), size_t(count * T));
}

// Shows every head's rows to the visitors that take heads at once, one thread per head. An exception is rethrown on
// the calling thread once every head is done (none may leave an OpenMP region).
void visitHeadsInParallel(std::span<RowVisitor* const> visitors, int64_t layer, int64_t heads, int64_t row0,
                          int64_t count, int64_t T, std::span<const float> buffer, int64_t headStride) {
    std::exception_ptr failure;
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t h = 0; h < heads; ++h) {
        try {
            for (RowVisitor* v : visitors)
                v->visit(layer, h, row0, count, headRows(buffer, h, headStride, count, T));
        } catch (...) {
#pragma omp critical(attnscope_row_pass_failure)
            if (!failure) failure = std::current_exception();
        }
    }
    if (failure) std::rethrow_exception(failure);
}

} // namespace

void streamRows(AttentionSource& source, std::span<RowVisitor* const> visitors,
                const std::function<void(int64_t)>& afterLayer) {
    const int64_t L = source.layers(), H = source.heads(), T = source.length();
    int64_t end = 0;
    for (RowVisitor* v : visitors)
        end = std::max(end, std::min(T, v->rowEnd()));
    const int64_t fit = std::max<int64_t>(1, kPassBufferBytes / std::max<int64_t>(1, H * T * int64_t(sizeof(float))));
    const int64_t block = std::clamp<int64_t>(std::min(source.preferredRows(), fit), 1, std::max<int64_t>(end, 1));
    const int64_t headStride = block * T;
    std::vector<float> buffer(size_t(H * headStride));
    std::vector<RowVisitor*> parallel, serial;
    for (int64_t l = L - 1; l >= 0; --l) {
        for (int64_t row0 = 0; row0 < end; row0 += block) {
            const int64_t count = std::min(block, end - row0);
            parallel.clear(), serial.clear();
            for (RowVisitor* v : visitors)
                if (row0 < v->rowEnd()) (v->headsInParallel() ? parallel : serial).push_back(v);
            for (int64_t h = 0; h < H; ++h)
                source.rows(l, h, row0, count, std::span<float>(buffer.data() + h * headStride, size_t(count * T)));
            const std::span<const float> all(buffer);
            if (!parallel.empty()) visitHeadsInParallel(parallel, l, H, row0, count, T, all, headStride);
            for (int64_t h = 0; h < H; ++h)
                for (RowVisitor* v : serial)
                    v->visit(l, h, row0, count, headRows(all, h, headStride, count, T));
            for (RowVisitor* v : visitors)
                if (row0 < v->rowEnd()) v->blockDone(l, row0, count);
        }
        for (RowVisitor* v : visitors)
            v->layerDone(l);
        if (afterLayer) afterLayer(L - l);
    }
}

void streamRows(AttentionSource& source, RowVisitor& visitor) {
    RowVisitor* one[] = {&visitor};
    streamRows(source, std::span<RowVisitor* const>(one));
}

} // namespace attnscope::core

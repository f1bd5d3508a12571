#include "analysis/row_pass.hpp"

#include <algorithm>
#include <vector>

namespace attnscope::core {

void streamRows(AttentionSource& source, std::span<RowVisitor* const> visitors,
                const std::function<void(int64_t)>& afterLayer) {
    const int64_t L = source.layers(), H = source.heads(), T = source.length();
    const int64_t block = std::max<int64_t>(1, source.preferredRows());
    int64_t end = 0;
    for (RowVisitor* v : visitors)
        end = std::max(end, std::min(T, v->rowEnd()));
    std::vector<float> buffer(size_t(std::min(block, std::max<int64_t>(end, 1)) * T));
    std::vector<RowVisitor*> active;
    for (int64_t l = L - 1; l >= 0; --l) {
        for (int64_t row0 = 0; row0 < end; row0 += block) {
            const int64_t count = std::min(block, end - row0);
            active.clear();
            for (RowVisitor* v : visitors)
                if (row0 < v->rowEnd()) active.push_back(v);
            const std::span<float> rows(buffer.data(), size_t(count * T));
            for (int64_t h = 0; h < H; ++h) {
                source.rows(l, h, row0, count, rows);
                for (RowVisitor* v : active)
                    v->visit(l, h, row0, count, rows);
            }
            for (RowVisitor* v : active)
                v->blockDone(l, row0, count);
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

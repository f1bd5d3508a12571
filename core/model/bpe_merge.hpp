#pragma once
// Best-first BPE merging of adjacent symbols: lowest priority value first, leftmost first on ties (SentencePiece, HF).
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace attnscope::core {

// A symbol covers bytes [begin, end) of the word being merged; neighbours are contiguous.
struct BpeSymbol {
    int32_t id = -1;
    uint32_t begin = 0;
    uint32_t end = 0;
};

struct BpeMergeChoice {
    double priority = 0; // SentencePiece: minus the merged piece's score; HF BPE: the merge's rank
    int32_t id = -1;     // the merged symbol's token id
};

// Returns the merge of left and right (right.begin == left.end), or nullopt when the pair does not merge.
using BpeMergeLookup = std::function<std::optional<BpeMergeChoice>(const BpeSymbol& left, const BpeSymbol& right)>;

// Merges in place until no adjacent pair merges; O(n log n) in the number of symbols.
void bpeMerge(std::vector<BpeSymbol>& symbols, const BpeMergeLookup& lookup);

} // namespace attnscope::core

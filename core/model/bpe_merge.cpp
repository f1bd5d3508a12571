#include "model/bpe_merge.hpp"

#include <queue>

namespace attnscope::core {
namespace {

struct Node {
    BpeSymbol symbol;
    int prev = -1;
    int next = -1;
    bool alive = true;
};

struct Candidate {
    double priority;
    uint32_t leftBegin; // ties go to the leftmost pair, as llama.cpp's and HF's queues order them
    int left;
    int right;
    uint32_t rightEnd; // the pair is stale once the right symbol has grown or gone
    int32_t id;
};

struct WorseFirst {
    bool operator()(const Candidate& a, const Candidate& b) const {
        if (a.priority != b.priority) return a.priority > b.priority;
        return a.leftBegin > b.leftBegin;
    }
};

} // namespace

void bpeMerge(std::vector<BpeSymbol>& symbols, const BpeMergeLookup& lookup) {
    if (symbols.size() < 2) return;
    std::vector<Node> nodes(symbols.size());
    for (size_t k = 0; k < symbols.size(); ++k) {
        nodes[k].symbol = symbols[k];
        nodes[k].prev = static_cast<int>(k) - 1;
        nodes[k].next = k + 1 < symbols.size() ? static_cast<int>(k) + 1 : -1;
    }
    std::priority_queue<Candidate, std::vector<Candidate>, WorseFirst> queue;
    const auto consider = [&](int left, int right) {
        if (left < 0 || right < 0) return;
        if (auto choice = lookup(nodes[left].symbol, nodes[right].symbol))
            queue.push({choice->priority, nodes[left].symbol.begin, left, right, nodes[right].symbol.end, choice->id});
    };
    for (size_t k = 0; k + 1 < nodes.size(); ++k)
        consider(static_cast<int>(k), static_cast<int>(k) + 1);

    while (!queue.empty()) {
        const Candidate c = queue.top();
        queue.pop();
        Node& left = nodes[c.left];
        Node& right = nodes[c.right];
        // A left symbol only grows by absorbing its right neighbour, so these checks catch every stale pair.
        if (!left.alive || !right.alive || left.next != c.right || right.symbol.end != c.rightEnd) continue;
        left.symbol.end = right.symbol.end;
        left.symbol.id = c.id;
        right.alive = false;
        left.next = right.next;
        if (right.next >= 0) nodes[right.next].prev = c.left;
        consider(left.prev, c.left);
        consider(c.left, left.next);
    }
    symbols.clear();
    for (int k = 0; k >= 0; k = nodes[k].next)
        symbols.push_back(nodes[k].symbol);
}

} // namespace attnscope::core

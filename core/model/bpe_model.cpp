#include "model/bpe_model.hpp"

#include "errors.hpp"
#include "model/bpe_merge.hpp"

#include <fmt/format.h>

namespace attnscope::core {
namespace {

constexpr size_t kCacheMaxWordBytes = 256;
constexpr size_t kCacheMaxEntries = 1 << 16;

uint64_t pairKey(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

} // namespace

BpeModel::BpeModel(std::vector<std::string> tokens, const std::vector<std::pair<std::string, std::string>>& merges,
                   BpeOptions options, const std::string& file)
    : m_tokens(std::move(tokens)), m_options(std::move(options)) {
    for (size_t id = 0; id < m_tokens.size(); ++id)
        if (!m_tokens[id].empty()) m_ids.insert_or_assign(m_tokens[id], static_cast<int32_t>(id));
    m_byteIds.fill(-1);
    for (int b = 0; b < 256; ++b)
        m_byteIds[b] = tokenId(fmt::format("<0x{:02X}>", b));
    if (!m_options.unkToken.empty()) {
        m_unkId = tokenId(m_options.unkToken);
        if (m_unkId < 0)
            throw FormatError(fmt::format("Tokenizer file {} names unk_token {} that is not in its vocabulary.", file,
                                          m_options.unkToken));
    }
    m_merges.reserve(merges.size());
    for (size_t rank = 0; rank < merges.size(); ++rank) {
        const auto& [a, b] = merges[rank];
        const int32_t left = tokenId(a), right = tokenId(b), merged = tokenId(a + b);
        if (left < 0 || right < 0 || merged < 0)
            throw FormatError(
                fmt::format("Tokenizer file {} has merge number {} (\"{} {}\") naming a token that is not "
                            "in its vocabulary.",
                            file, rank, a, b));
        // A repeated pair takes its last rank, as HF's hash map insertion does.
        m_merges.insert_or_assign(pairKey(left, right), std::pair{static_cast<int32_t>(rank), merged});
    }
}

const std::string& BpeModel::token(int32_t id) const {
    static const std::string none;
    return id >= 0 && static_cast<size_t>(id) < m_tokens.size() ? m_tokens[id] : none;
}

int32_t BpeModel::tokenId(std::string_view token) const {
    const auto it = m_ids.find(token);
    return it == m_ids.end() ? -1 : it->second;
}

void BpeModel::tokenize(std::string_view word, std::vector<WordToken>& out) const {
    if (word.empty()) return;
    if (m_options.ignoreMerges) {
        if (const int32_t id = tokenId(word); id >= 0) {
            out.push_back({id, 0, static_cast<uint32_t>(word.size())});
            return;
        }
    }
    const bool cacheable = word.size() <= kCacheMaxWordBytes;
    if (cacheable) {
        std::lock_guard lock(m_cacheMutex);
        if (const auto it = m_cache.find(word); it != m_cache.end()) {
            out.insert(out.end(), it->second.begin(), it->second.end());
            return;
        }
    }
    std::vector<WordToken> tokens;
    merge(word, tokens);
    out.insert(out.end(), tokens.begin(), tokens.end());
    if (cacheable) {
        std::lock_guard lock(m_cacheMutex);
        if (m_cache.size() >= kCacheMaxEntries) m_cache.clear();
        m_cache.emplace(std::string(word), std::move(tokens));
    }
}

void BpeModel::merge(std::string_view word, std::vector<WordToken>& out) const {
    std::vector<BpeSymbol> symbols;
    symbols.reserve(word.size());
    BpeSymbol unk{-1, 0, 0}; // pending unknown run
    const auto flushUnk = [&] {
        if (unk.id >= 0) symbols.push_back(unk);
        unk.id = -1;
    };
    for (size_t pos = 0; pos < word.size();) {
        const size_t len = utf8CharLength(word, pos);
        const auto begin = static_cast<uint32_t>(pos), end = static_cast<uint32_t>(pos + len);
        pos += len;
        if (const int32_t id = tokenId(word.substr(begin, len)); id >= 0) {
            flushUnk();
            symbols.push_back({id, begin, end});
            continue;
        }
        if (m_options.byteFallback) {
            bool all = true;
            for (uint32_t k = begin; k < end; ++k)
                all = all && m_byteIds[static_cast<unsigned char>(word[k])] >= 0;
            if (all) {
                flushUnk();
                for (uint32_t k = begin; k < end; ++k)
                    symbols.push_back({m_byteIds[static_cast<unsigned char>(word[k])], k, k + 1});
                continue;
            }
        }
        if (m_unkId < 0) continue; // HF drops what it cannot encode when the model has no unknown token
        if (unk.id >= 0 && m_options.fuseUnk) {
            unk.end = end;
        } else {
            flushUnk();
            unk = {m_unkId, begin, end};
        }
    }
    flushUnk();
    bpeMerge(symbols, [&](const BpeSymbol& l, const BpeSymbol& r) -> std::optional<BpeMergeChoice> {
        const auto it = m_merges.find(pairKey(l.id, r.id));
        if (it == m_merges.end()) return std::nullopt;
        return BpeMergeChoice{static_cast<double>(it->second.first), it->second.second};
    });
    for (const BpeSymbol& s : symbols)
        out.push_back({s.id, s.begin, s.end});
}

} // namespace attnscope::core

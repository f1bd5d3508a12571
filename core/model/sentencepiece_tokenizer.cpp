#include "model/sentencepiece_tokenizer.hpp"

#include "errors.hpp"
#include "model/bpe_merge.hpp"
#include "model/offset_text.hpp"
#include "model/vocab_data.hpp"

#include <fmt/format.h>

namespace attnscope::core {
namespace {

constexpr std::string_view kSpaceSymbol = "\xE2\x96\x81"; // U+2581, SentencePiece's visible space

// GGUF token types: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
constexpr int32_t kTypeUnknown = 2, kTypeControl = 3, kTypeUserDefined = 4, kTypeUnused = 5, kTypeByte = 6;

std::string replaceAll(std::string s, std::string_view from, std::string_view to) {
    for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
        s.replace(pos, from.size(), to);
    return s;
}

} // namespace

SentencePieceTokenizer::SentencePieceTokenizer(const GgufVocab& vocab, const std::string& file)
    : m_file(file), m_pieces(vocab.tokens), m_scores(vocab.scores), m_bosId(vocab.bosId), m_eosId(vocab.eosId),
      m_unkId(vocab.unkId), m_addBos(vocab.addBos), m_addSpacePrefix(vocab.addSpacePrefix) {
    const size_t n = m_pieces.size();
    if (n == 0) throw FormatError(fmt::format("GGUF file {} has an empty tokenizer vocabulary.", file));
    if (m_scores.size() != n)
        throw FormatError(fmt::format("GGUF file {} has {} tokenizer scores for {} tokens; SentencePiece merging needs "
                                      "one score per token.",
                                      file, m_scores.size(), n));
    if (!vocab.tokenTypes.empty() && vocab.tokenTypes.size() != n)
        throw FormatError(
            fmt::format("GGUF file {} has {} token types for {} tokens.", file, vocab.tokenTypes.size(), n));
    for (int64_t id : {m_bosId, m_eosId, m_unkId})
        if (id >= static_cast<int64_t>(n))
            throw FormatError(
                fmt::format("GGUF file {} names special token id {} outside its {}-token vocabulary.", file, id, n));

    m_byteIds.fill(-1);
    m_types.resize(n);
    m_decoded.resize(n);
    std::vector<AddedToken> added;
    for (size_t id = 0; id < n; ++id) {
        const std::string& p = m_pieces[id];
        // Files without token types still spell bytes as <0xXX> and name BOS/EOS/UNK by id.
        int32_t type = vocab.tokenTypes.empty() ? 1 : vocab.tokenTypes[id];
        if (vocab.tokenTypes.empty()) {
            if (byteFallbackValue(p) >= 0)
                type = kTypeByte;
            else if (static_cast<int64_t>(id) == m_bosId || static_cast<int64_t>(id) == m_eosId)
                type = kTypeControl;
            else if (static_cast<int64_t>(id) == m_unkId)
                type = kTypeUnknown;
        }
        const int byteValue = type == kTypeByte ? byteFallbackValue(p) : -1;
        if (type == kTypeByte && byteValue < 0)
            throw FormatError(fmt::format("GGUF file {} marks token {} ({}) as a byte token, but it is not spelled "
                                          "<0xXX>.",
                                          file, id, p));
        if (type == kTypeByte) {
            m_types[id] = PieceType::Byte;
            if (m_byteIds[byteValue] < 0) m_byteIds[byteValue] = static_cast<int32_t>(id);
            m_decoded[id] = std::string(1, static_cast<char>(byteValue));
        } else if (type == kTypeControl) {
            m_types[id] = PieceType::Control;
            m_decoded[id] = p;
        } else if (type == kTypeUnknown || type == kTypeUnused) {
            m_types[id] = PieceType::Other;
            m_decoded[id] = replaceAll(p, kSpaceSymbol, " ");
        } else {
            m_types[id] = PieceType::Normal;
            m_decoded[id] = replaceAll(p, kSpaceSymbol, " ");
            m_mergeable.emplace(p, static_cast<int32_t>(id)); // the first of duplicate spellings wins
        }
        if ((type == kTypeControl || type == kTypeUserDefined) && !p.empty())
            added.push_back({p, static_cast<int32_t>(id), type == kTypeControl});
    }
    m_added = AddedTokenMatcher(std::move(added));
}

Encoding SentencePieceTokenizer::encode(std::string_view text, bool addSpecial) const {
    Encoding out;
    const auto push = [&](int32_t id, ByteSpan span) {
        out.ids.push_back(id);
        out.pieces.push_back(m_decoded[id]);
        out.spans.push_back(span);
    };
    if (addSpecial && m_addBos && m_bosId >= 0) push(static_cast<int32_t>(m_bosId), {0, 0});
    // As llama.cpp: the dummy prefix goes before the first raw fragment and before each one that follows a token
    // matched literally.
    bool afterSpecial = true;
    for (const TextSegment& seg : m_added.split(text)) {
        if (seg.id >= 0) {
            push(seg.id, {static_cast<int64_t>(seg.begin), static_cast<int64_t>(seg.end)});
            afterSpecial = true;
        } else {
            encodeFragment(text, seg.begin, seg.end, m_addSpacePrefix && afterSpecial, out);
            afterSpecial = false;
        }
    }
    return out;
}

void SentencePieceTokenizer::encodeFragment(std::string_view text, size_t begin, size_t end, bool spacePrefix,
                                            Encoding& out) const {
    OffsetText work(text, static_cast<int64_t>(begin), static_cast<int64_t>(end));
    std::vector<std::pair<size_t, size_t>> spaces;
    for (size_t k = 0; k < work.size(); ++k)
        if (work.text()[k] == ' ') spaces.emplace_back(k, k + 1);
    work = work.replaced(spaces, kSpaceSymbol);
    if (spacePrefix) work.prepend(kSpaceSymbol);
    const std::string& w = work.text();

    // One symbol per code point; a code point the vocabulary lacks becomes its bytes, which never merge (run.c).
    std::vector<BpeSymbol> symbols;
    symbols.reserve(w.size());
    for (size_t pos = 0; pos < w.size();) {
        const size_t len = utf8CharLength(w, pos);
        const auto it = m_mergeable.find(std::string_view(w).substr(pos, len));
        if (it != m_mergeable.end()) {
            symbols.push_back({it->second, static_cast<uint32_t>(pos), static_cast<uint32_t>(pos + len)});
        } else {
            for (size_t k = pos; k < pos + len; ++k) {
                int32_t id = m_byteIds[static_cast<unsigned char>(w[k])];
                if (id < 0) id = static_cast<int32_t>(m_unkId);
                if (id < 0)
                    throw ArgumentError(
                        fmt::format("The text cannot be encoded with the vocabulary of {}: byte 0x{:02X} "
                                    "has no byte token and there is no unknown token.",
                                    m_file, static_cast<unsigned char>(w[k])));
                symbols.push_back({id, static_cast<uint32_t>(k), static_cast<uint32_t>(k + 1)});
            }
        }
        pos += len;
    }
    bpeMerge(symbols, [&](const BpeSymbol& l, const BpeSymbol& r) -> std::optional<BpeMergeChoice> {
        if (m_types[l.id] != PieceType::Normal || m_types[r.id] != PieceType::Normal) return std::nullopt;
        const auto it = m_mergeable.find(std::string_view(w).substr(l.begin, r.end - l.begin));
        if (it == m_mergeable.end()) return std::nullopt;
        return BpeMergeChoice{-static_cast<double>(m_scores[it->second]), it->second};
    });
    for (const BpeSymbol& s : symbols) {
        out.ids.push_back(s.id);
        out.pieces.push_back(m_decoded[s.id]);
        out.spans.push_back(work.span(s.begin, s.end));
    }
}

std::string SentencePieceTokenizer::decode(const std::vector<int32_t>& ids, bool skipSpecial) const {
    std::string out;
    // The dummy prefix's space is dropped at the start and, as run.c does, right after a BOS.
    bool atStart = true;
    for (int32_t id : ids) {
        checkId(id);
        if (m_types[id] == PieceType::Control) {
            if (!skipSpecial) out += m_decoded[id];
            if (id == m_bosId) atStart = true;
            continue;
        }
        std::string_view p = m_decoded[id];
        if (atStart && m_addSpacePrefix && !p.empty() && p.front() == ' ') p.remove_prefix(1);
        out += p;
        atStart = false;
    }
    return out;
}

std::string SentencePieceTokenizer::piece(int32_t id) const {
    checkId(id);
    return m_decoded[id];
}

void SentencePieceTokenizer::checkId(int32_t id) const {
    if (id < 0 || static_cast<size_t>(id) >= m_pieces.size())
        throw ArgumentError(
            fmt::format("Token id {} is outside the {}-token vocabulary of {}.", id, m_pieces.size(), m_file));
}

} // namespace attnscope::core

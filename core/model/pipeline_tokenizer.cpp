#include "model/pipeline_tokenizer.hpp"

#include "errors.hpp"
#include "model/byte_level_map.hpp"
#include "model/utf8.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace attnscope::core {
namespace {

std::string replaceAll(std::string s, std::string_view from, std::string_view to) {
    if (from.empty()) return s;
    for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
        s.replace(pos, from.size(), to);
    return s;
}

} // namespace

PipelineTokenizer::PipelineTokenizer(PipelineParts parts) : m_p(std::move(parts)) {
    m_vocabSize = m_p.model->size();
    for (const AddedToken& t : m_p.added.tokens())
        m_vocabSize = std::max<int64_t>(m_vocabSize, t.id + 1);
    for (int32_t id : m_p.prefix)
        m_vocabSize = std::max<int64_t>(m_vocabSize, id + 1);
    for (int32_t id : m_p.suffix)
        m_vocabSize = std::max<int64_t>(m_vocabSize, id + 1);

    m_decoded.resize(static_cast<size_t>(m_vocabSize));
    const ByteLevelMap& bytes = ByteLevelMap::instance();
    for (int32_t id = 0; id < m_vocabSize; ++id) {
        if (const AddedToken* a = m_p.added.find(id)) {
            m_decoded[id] = a->content; // HF emits added tokens as written, outside the decoder's byte mapping
            continue;
        }
        const std::string& t = m_p.model->token(id);
        switch (m_p.decoding) {
        case TokenDecoding::ByteLevel:
            m_decoded[id] = bytes.decodeText(t);
            break;
        case TokenDecoding::Metaspace:
            if (const int b = byteFallbackValue(t); m_p.byteFallback && b >= 0)
                m_decoded[id] = std::string(1, static_cast<char>(b));
            else
                m_decoded[id] = replaceAll(t, m_p.metaspace, " ");
            break;
        case TokenDecoding::WordLevel:
            m_decoded[id] = t;
            break;
        }
    }
}

Encoding PipelineTokenizer::encode(std::string_view text, bool addSpecial) const {
    Encoding out;
    const auto push = [&](int32_t id, ByteSpan span) {
        out.ids.push_back(id);
        out.pieces.push_back(m_decoded[id]);
        out.spans.push_back(span);
    };
    if (addSpecial)
        for (int32_t id : m_p.prefix)
            push(id, {0, 0});
    for (const TextSegment& seg : m_p.added.split(text)) {
        if (seg.id >= 0)
            push(seg.id, {static_cast<int64_t>(seg.begin), static_cast<int64_t>(seg.end)});
        else
            encodeRaw(text, seg.begin, seg.end, out);
    }
    const auto end = static_cast<int64_t>(text.size());
    if (addSpecial)
        for (int32_t id : m_p.suffix)
            push(id, {end, end});
    return out;
}

void PipelineTokenizer::encodeRaw(std::string_view text, size_t begin, size_t end, Encoding& out) const {
    OffsetText normalized(text, static_cast<int64_t>(begin), static_cast<int64_t>(end));
    if (m_p.normalizer) normalized = m_p.normalizer->apply(std::move(normalized));
    std::vector<OffsetText> words;
    if (m_p.preTokenizer)
        words = m_p.preTokenizer->split(std::move(normalized));
    else if (!normalized.empty())
        words.push_back(std::move(normalized));
    std::vector<WordToken> tokens;
    for (const OffsetText& word : words) {
        tokens.clear();
        m_p.model->tokenize(word.text(), tokens);
        for (const WordToken& t : tokens) {
            out.ids.push_back(t.id);
            out.pieces.push_back(m_decoded[t.id]);
            out.spans.push_back(word.span(t.begin, t.end));
        }
    }
}

std::string PipelineTokenizer::decode(const std::vector<int32_t>& ids, bool skipSpecial) const {
    std::string out;
    bool first = true;
    for (int32_t id : ids) {
        checkId(id);
        if (const AddedToken* a = m_p.added.find(id); skipSpecial && a && a->special) continue;
        if (m_p.decoding == TokenDecoding::WordLevel && !first) out += ' ';
        out += m_decoded[id];
        first = false;
    }
    // HF's Strip decoder (Llama 2) and Metaspace decoder remove the space that the encoder's prefix became.
    if (m_p.stripLeadingSpace && !out.empty() && out.front() == ' ') out.erase(0, 1);
    return out;
}

std::string PipelineTokenizer::piece(int32_t id) const {
    checkId(id);
    return m_decoded[id];
}

void PipelineTokenizer::checkId(int32_t id) const {
    if (id < 0 || id >= m_vocabSize)
        throw ArgumentError(
            fmt::format("Token id {} is outside the {}-token vocabulary of {}.", id, m_vocabSize, m_p.source));
}

} // namespace attnscope::core

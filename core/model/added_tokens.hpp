#pragma once
// Literal tokens (HF added_tokens, GGUF control and user-defined pieces) cut out of the text before the model runs.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace attnscope::core {

struct AddedToken {
    std::string content;
    int32_t id = -1;
    bool special = false;    // dropped by decode(skipSpecial)
    bool lstrip = false;     // also swallows the whitespace before it
    bool rstrip = false;     // also swallows the whitespace after it
    bool singleWord = false; // only matches with no word character right before or after it
};

// A piece of the input: a matched added token (id >= 0) or raw text for the model (id == -1). Bytes [begin, end).
struct TextSegment {
    size_t begin = 0;
    size_t end = 0;
    int32_t id = -1;
};

class AddedTokenMatcher {
public:
    AddedTokenMatcher() = default;
    explicit AddedTokenMatcher(std::vector<AddedToken> tokens);

    // Leftmost-longest matching; raw segments are never empty.
    std::vector<TextSegment> split(std::string_view text) const;
    const AddedToken* find(int32_t id) const;
    bool empty() const { return m_tokens.empty(); }
    const std::vector<AddedToken>& tokens() const { return m_tokens; }

private:
    std::vector<AddedToken> m_tokens;
    std::unordered_map<int32_t, size_t> m_byId;
    std::array<std::vector<size_t>, 256> m_byFirstByte; // longest first
};

} // namespace attnscope::core

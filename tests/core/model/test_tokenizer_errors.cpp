// Bad tokenizer files: every one is a typed error whose message names the file; none crashes.
#include "errors.hpp"
#include "model/tokenizer.hpp"
#include "tokenizer_checks.hpp"

#include <gtest/gtest.h>

using namespace attnscope;

namespace {

// A valid byte-level tokenizer.json with one part replaced.
std::string gpt2Json(const std::string& model, const std::string& preTokenizer = R"({"type": "ByteLevel"})") {
    return R"({"added_tokens": [], "normalizer": null, "pre_tokenizer": )" + preTokenizer +
           R"(, "post_processor": null, "decoder": null, "model": )" + model + "}";
}

const std::string kModel = R"({"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]})";

std::filesystem::path folderWith(const std::string& json) {
    const auto dir = test::scratchDir("tok");
    test::writeText(dir / "tokenizer.json", json);
    return dir;
}

void expectError(const std::string& json, const char* what) {
    const auto dir = folderWith(json);
    const std::string file = (dir / "tokenizer.json").string();
    SCOPED_TRACE(what);
    EXPECT_THROW_NAMING(core::loadHfTokenizer(dir), core::Error, file);
}

} // namespace

TEST(TokenizerErrors, ValidBaseLoads) {
    const auto tok = core::loadHfTokenizer(folderWith(gpt2Json(kModel)));
    EXPECT_EQ(tok->encode("ab").ids, (std::vector<int32_t>{2}));
}

TEST(TokenizerErrors, MissingFile) {
    const auto dir = test::scratchDir("empty");
    EXPECT_THROW_NAMING(core::loadHfTokenizer(dir), core::FileError, (dir / "tokenizer.json").string());
    EXPECT_THROW_NAMING(core::loadHfTokenizer(dir / "nowhere"), core::FileError, "nowhere");
}

TEST(TokenizerErrors, InvalidJson) {
    const auto dir = folderWith(R"({"model": {"type": "BPE", )");
    EXPECT_THROW_NAMING(core::loadHfTokenizer(dir), core::FormatError, (dir / "tokenizer.json").string());
    EXPECT_THROW_NAMING(core::loadHfTokenizer(folderWith("")), core::FormatError, "tokenizer.json");
}

TEST(TokenizerErrors, UnknownModelType) {
    const auto dir = folderWith(gpt2Json(R"({"type": "Unigram", "vocab": [["a", 0.0]], "unk_id": 0})"));
    EXPECT_THROW_NAMING(core::loadHfTokenizer(dir), core::UnsupportedError, (dir / "tokenizer.json").string());
    const auto wp = folderWith(gpt2Json(R"({"type": "WordPiece", "vocab": {"a": 0}})"));
    EXPECT_THROW_NAMING(core::loadHfTokenizer(wp), core::UnsupportedError, "WordPiece");
}

TEST(TokenizerErrors, MissingParts) {
    expectError(R"({"added_tokens": []})", "no model");
    expectError(R"([1, 2, 3])", "not an object");
    expectError(gpt2Json(R"({"type": "BPE", "merges": []})"), "no vocab");
    expectError(gpt2Json(R"({"type": "BPE", "vocab": {}, "merges": []})"), "empty vocab");
    expectError(gpt2Json(R"({"type": "BPE", "vocab": {"a": 0}})"), "no merges");
    expectError(gpt2Json(R"({"type": "WordLevel"})"), "WordLevel without vocab");
}

TEST(TokenizerErrors, MergeNamingUnknownToken) {
    const auto dir = folderWith(gpt2Json(R"({"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a c"]})"));
    EXPECT_THROW_NAMING(core::loadHfTokenizer(dir), core::FormatError, (dir / "tokenizer.json").string());
    // The merged token must exist too, and a merge must be two tokens.
    expectError(gpt2Json(R"({"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": [["a", "b"]]})"), "no result");
    expectError(gpt2Json(R"({"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["ab"]})"), "one part");
    expectError(gpt2Json(R"({"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": [["a"]]})"), "one item");
    expectError(gpt2Json(R"({"type": "BPE", "vocab": {"a": 0}, "merges": [], "unk_token": "<unk>"})"), "unk");
}

TEST(TokenizerErrors, WrongTypesAndValues) {
    expectError(gpt2Json(R"({"type": "BPE", "vocab": {"a": "zero"}, "merges": []})"), "string id");
    expectError(gpt2Json(R"({"type": "BPE", "vocab": {"a": -1}, "merges": []})"), "negative id");
    expectError(gpt2Json(R"({"type": "BPE", "vocab": {"a": 0}, "merges": [], "byte_fallback": "yes"})"), "bool");
    expectError(gpt2Json(kModel, R"({"type": "Split", "pattern": {"Regex": "("}, "behavior": "Isolated"})"), "regex");
    expectError(gpt2Json(kModel, R"({"type": "Split", "pattern": {"Regex": "a"}, "behavior": "Sideways"})"),
                "behavior");
    expectError(gpt2Json(kModel, R"({"type": "Split", "behavior": "Isolated"})"), "no pattern");
    expectError(gpt2Json(kModel, R"({"type": "Sequence"})"), "sequence without list");
    expectError(gpt2Json(kModel, R"({"type": "Metaspace", "replacement": "_", "prepend_scheme": "sometimes"})"),
                "scheme");
    expectError(gpt2Json(kModel, R"({"kind": "ByteLevel"})"), "no type");
    const std::string added = R"({"added_tokens": [{"content": "<s>"}], "model": )" + kModel + "}";
    expectError(added, "added token without id");
    const std::string post = R"({"post_processor": {"type": "TemplateProcessing", "single": )"
                             R"([{"SpecialToken": {"id": "<nope>", "type_id": 0}}]}, "model": )" +
                             kModel + "}";
    expectError(post, "template names an unknown token");
}

TEST(TokenizerErrors, UnsupportedParts) {
    const auto pre = folderWith(gpt2Json(kModel, R"({"type": "Punctuation"})"));
    EXPECT_THROW_NAMING(core::loadHfTokenizer(pre), core::UnsupportedError, (pre / "tokenizer.json").string());
    const auto norm = folderWith(R"({"normalizer": {"type": "Lowercase"}, "model": )" + kModel + "}");
    EXPECT_THROW_NAMING(core::loadHfTokenizer(norm), core::UnsupportedError, "Lowercase");
    const auto post = folderWith(R"({"post_processor": {"type": "Mystery"}, "model": )" + kModel + "}");
    EXPECT_THROW_NAMING(core::loadHfTokenizer(post), core::UnsupportedError, "Mystery");
    const std::string wordpiece =
        R"({"type": "BPE", "vocab": {"a": 0}, "merges": [], "continuing_subword_prefix": "##"})";
    EXPECT_THROW_NAMING(core::loadHfTokenizer(folderWith(gpt2Json(wordpiece))), core::UnsupportedError,
                        "continuing_subword_prefix");
}

TEST(TokenizerErrors, BadConfigFilesNameThemselves) {
    const auto dir = folderWith(gpt2Json(kModel));
    test::writeText(dir / "tokenizer_config.json", "{not json");
    EXPECT_THROW_NAMING(core::loadHfTokenizer(dir), core::FormatError, (dir / "tokenizer_config.json").string());
    std::filesystem::remove(dir / "tokenizer_config.json");
    test::writeText(dir / "config.json", "[]");
    EXPECT_THROW_NAMING(core::loadHfTokenizer(dir), core::FormatError, (dir / "config.json").string());
}

TEST(TokenizerErrors, ConfigJsonSuppliesBosAndEos) {
    const auto dir = folderWith(gpt2Json(kModel));
    test::writeText(dir / "config.json", R"({"bos_token_id": 0, "eos_token_id": [1, 2]})");
    const auto tok = core::loadHfTokenizer(dir / "tokenizer.json"); // the file itself is accepted too
    EXPECT_EQ(tok->bosId(), 0);
    EXPECT_EQ(tok->eosId(), 1);
    EXPECT_EQ(tok->encode("ab").ids, (std::vector<int32_t>{2})); // no add_bos_token: nothing added
    test::writeText(dir / "tokenizer_config.json", R"({"add_bos_token": true, "add_eos_token": true})");
    EXPECT_EQ(core::loadHfTokenizer(dir)->encode("ab").ids, (std::vector<int32_t>{0, 2, 1}));
}

TEST(TokenizerErrors, BadIdsAtDecode) {
    const auto dir = folderWith(gpt2Json(kModel));
    const auto tok = core::loadHfTokenizer(dir);
    EXPECT_THROW_NAMING(tok->decode({0, 3}), core::ArgumentError, (dir / "tokenizer.json").string());
    EXPECT_THROW_NAMING(tok->piece(-1), core::ArgumentError, (dir / "tokenizer.json").string());
}

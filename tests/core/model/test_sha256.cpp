// SHA-256 against FIPS 180-2 appendix B vectors and the published hash of stories260K.gguf.
#include "model/sha256.hpp"
#include "support/test_paths.hpp"

#include <gtest/gtest.h>

using namespace attnscope::core;

namespace {
std::string sha(std::string_view s) {
    Sha256 h;
    h.update(s);
    return h.hexDigest();
}
} // namespace

TEST(Sha256, FipsVectors) {
    EXPECT_EQ(sha("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(sha(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, IncrementalEqualsOneShot) {
    std::string data;
    for (int i = 0; i < 1000; ++i)
        data.push_back(static_cast<char>(i * 7 + 3));
    // Pieces that straddle the 64-byte block and the 56-byte padding boundaries.
    for (size_t split : {1u, 55u, 56u, 63u, 64u, 65u, 119u, 500u}) {
        Sha256 h;
        for (size_t at = 0; at < data.size(); at += split)
            h.update(std::string_view(data).substr(at, split));
        EXPECT_EQ(h.hexDigest(), sha(data)) << split;
    }
}

TEST(Sha256, Stories260KGgufMatchesItsReadme) {
    ATTNSCOPE_REQUIRE_SHARED();
    EXPECT_EQ(sha256File(attnscope::test::stories260KDir() / "stories260K.gguf"),
              "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d");
}

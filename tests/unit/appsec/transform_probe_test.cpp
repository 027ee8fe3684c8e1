// detail::may_change: "no" must mean the transformer leaves the string as it is.
#include <gtest/gtest.h>

#include <random>

#include "appsec/detail.h"

namespace gw::appsec::detail {
namespace {

constexpr int kLast = static_cast<int>(Transformer::url_querystring);

void expect_sound(const std::string& s) {
  for (int k = 0; k <= kLast; ++k) {
    const auto t = static_cast<Transformer>(k);
    std::string out = s;
    transform(t, out);
    if (!may_change(t, s)) EXPECT_EQ(out, s) << "transformer " << k << " on '" << s << "'";
  }
}

TEST(TransformProbe, NoMeansUnchanged) {
  for (const char* s : {"",
                        "plain",
                        "Mixed Case",
                        "a/b/c",
                        "a//b",
                        "/./x",
                        "../x",
                        "x/..",
                        ".",
                        "..",
                        "50%",
                        "a+b",
                        "%41",
                        "x&amp;y",
                        "\\x41",
                        "a,b;c",
                        "it's",
                        "a  b",
                        "a\tb",
                        "cmd (x)",
                        "a /b",
                        "#tag",
                        "--x",
                        "/*c*/",
                        "<!--x-->",
                        "http://x/y",
                        "caf\xc3\xa9",
                        "\xef\xbc\xa1",
                        "price: 12.50 EUR",
                        "user@example.com",
                        "2024-05-01T12:00:00Z"})
    expect_sound(s);
}

TEST(TransformProbe, RandomStringsOverTheInterestingBytes) {
  static constexpr char kBytes[] = "aZ0 ./\\%+&#;,'\"^-*<!>()\t\n\0\xc3\xa9\xef\xbc";
  const std::string alphabet(kBytes, sizeof kBytes - 1);  // with the NUL
  std::mt19937 rng(17);
  for (int i = 0; i < 3000; ++i) {
    std::string s;
    const int n = static_cast<int>(rng() % 12);
    for (int k = 0; k < n; ++k) s += alphabet[rng() % alphabet.size()];
    expect_sound(s);
  }
}

TEST(TransformProbe, OrdinaryTextNeedsNoTransformer) {
  EXPECT_FALSE(may_change(Transformer::remove_nulls, "blue running shoes"));
  EXPECT_FALSE(may_change(Transformer::url_decode_iis, "blue running shoes"));
  EXPECT_FALSE(may_change(Transformer::normalize_path, "blue running shoes"));
  EXPECT_FALSE(may_change(Transformer::shell_unescape, "blue running shoes"));
  EXPECT_FALSE(may_change(Transformer::remove_comments, "blue running shoes"));
  EXPECT_FALSE(may_change(Transformer::unicode_normalize, "blue running shoes"));
  EXPECT_TRUE(may_change(Transformer::lowercase, "Blue"));
}

}  // namespace
}  // namespace gw::appsec::detail

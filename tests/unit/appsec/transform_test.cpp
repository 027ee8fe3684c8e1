#include <gtest/gtest.h>

#include <string>
#include <tuple>

#include "appsec/detail.h"

namespace gw::appsec::detail {
namespace {

std::string apply(Transformer t, std::string value) {
  transform(t, value);
  return value;
}

TEST(TransformerNamed, CanonicalNamesAndAliases) {
  EXPECT_EQ(transformer_named("lowercase"), Transformer::lowercase);
  EXPECT_EQ(transformer_named("removeNulls"), Transformer::remove_nulls);
  EXPECT_EQ(transformer_named("compressWhiteSpace"), Transformer::compress_whitespace);
  EXPECT_EQ(transformer_named("normalizePathWin"), Transformer::normalize_path_win);
  EXPECT_EQ(transformer_named("urlDecodeUni"), Transformer::url_decode_iis);
  EXPECT_EQ(transformer_named("htmlEntityDecode"), Transformer::html_entity_decode);
  EXPECT_EQ(transformer_named("cmdLine"), Transformer::shell_unescape);
  EXPECT_EQ(transformer_named("base64url_decode"), Transformer::base64url_decode);
  EXPECT_EQ(transformer_named("url_querystring"), Transformer::url_querystring);
  EXPECT_EQ(transformer_named("unicode_normalize"), Transformer::unicode_normalize);
  EXPECT_FALSE(transformer_named("keys_only"));
  EXPECT_FALSE(transformer_named("values_only"));
  EXPECT_FALSE(transformer_named("Lowercase"));
  EXPECT_FALSE(transformer_named(""));
}

using Case = std::tuple<Transformer, std::string, std::string>;
class TransformCase : public ::testing::TestWithParam<Case> {};
TEST_P(TransformCase, Output) {
  const auto& [t, in, out] = GetParam();
  EXPECT_EQ(apply(t, in), out) << "input: " << in;
}

using T = Transformer;
INSTANTIATE_TEST_SUITE_P(
    Table, TransformCase,
    ::testing::Values(
        Case{T::lowercase, "SeLeCt \xC3\x89", "select \xC3\x89"}, Case{T::lowercase, "", ""},
        Case{T::remove_nulls, std::string("a\0b\0", 4), "ab"},
        Case{T::compress_whitespace, "a  \t\n b   c ", "a b c "}, Case{T::compress_whitespace, "  ", " "},
        Case{T::normalize_path, "/a/b/../c/./d", "/a/c/d"}, Case{T::normalize_path, "/a//b///c", "/a/b/c"},
        Case{T::normalize_path, "/../../etc/passwd", "/etc/passwd"},
        Case{T::normalize_path, "../../etc/passwd", "../../etc/passwd"},
        Case{T::normalize_path, "a/b/../../../x", "../x"}, Case{T::normalize_path, "/a/b/", "/a/b/"},
        Case{T::normalize_path, "/a/b/..", "/a/"}, Case{T::normalize_path, "./x", "x"},
        Case{T::normalize_path, "/", "/"}, Case{T::normalize_path, "file..txt", "file..txt"},
        Case{T::normalize_path_win, "C:\\a\\..\\windows\\.\\win.ini", "C:/windows/win.ini"},
        Case{T::url_decode, "a%20b+c%3Cd%", "a b c<d%"}, Case{T::url_decode, "%zz%4", "%zz%4"},
        Case{T::url_decode, "%2527", "%27"}, Case{T::url_decode, "%u0041", "%u0041"},
        Case{T::url_decode_iis, "%u0041%uFF1C%3c", "A\xEF\xBC\x9C<"}, Case{T::url_decode_iis, "%2527", "'"},
        Case{T::url_decode_iis, "%uD800", "\xEF\xBF\xBD"},
        Case{T::html_entity_decode, "&lt;script&gt;&amp;&quot;&apos;", "<script>&\"'"},
        Case{T::html_entity_decode, "&#60;&#x3C;&#X3c&#0060", "<<<<"},
        Case{T::html_entity_decode, "&LT;&ltx&nbsp;", "<<x\xC2\xA0"},
        Case{T::html_entity_decode, "java&Tab;script&colon;", "java\tscript:"},
        Case{T::html_entity_decode, "a & b &#; &unknown;", "a & b &#; &unknown;"},
        Case{T::html_entity_decode, "&#99999999999;&#0;", "\xEF\xBF\xBD\xEF\xBF\xBD"},
        Case{T::js_decode, "\\x3cscript\\x3e\\u0061\\n\\'", "<script>a\n'"},
        Case{T::js_decode, "\\ud83d\\ude00\\u{41}",
             "\xF0\x9F\x98\x80"
             "A"},
        Case{T::js_decode, "\\141\\1\\xZZ\\", "a\x01xZZ\\"},
        Case{T::css_decode, "\\3c script\\3E\\000041", "<script>A"},
        Case{T::css_decode, "\\6a\\61vascript\\\nx\\", "javascriptx"}, Case{T::css_decode, "\\a", "\n"},
        Case{T::css_decode, "\\0", "\xEF\xBF\xBD"}, Case{T::base64_decode, "SGVsbG8gV29ybGQ=", "Hello World"},
        Case{T::base64_decode, "SGVsbG8", "Hello"}, Case{T::base64_decode, "SGk!garbage", "Hi"},
        Case{T::base64_decode, "!", ""}, Case{T::base64url_decode, "PDw_Pz4-", "<<?\?>>"},
        Case{T::base64_encode, "Hello", "SGVsbG8="}, Case{T::base64_encode, "", ""},
        Case{T::base64_encode, "ab", "YWI="}, Case{T::base64_encode, "abc", "YWJj"},
        Case{T::shell_unescape, "C^A\"T /E'T\\C/PASSWD", "cat/etc/passwd"},
        Case{T::shell_unescape, "ls  ,;\t-la (x)", "ls -la(x)"}, Case{T::shell_unescape, "a ", "a "},
        Case{T::remove_comments, "sel/*x*/ect 1 -- rest", "select 1 "},
        Case{T::remove_comments, "a<!-- b -->c#d", "ac"}, Case{T::remove_comments, "x//y", "x"},
        Case{T::remove_comments, "a/* unterminated", "a"}, Case{T::remove_comments, "a-b/c", "a-b/c"},
        Case{T::unicode_normalize, "\xEF\xBC\x9C\xEF\xBD\x93\xEF\xBD\x83", "<sc"},
        Case{T::unicode_normalize, "e\xCC\x81\xC3\xA9\xC3\x85\xC5\x93", "eeA\xC5\x93"},
        Case{T::unicode_normalize, "\xEF\xAC\x81\xC2\xB2\xE2\x80\x8B\xE3\x80\x80x", "fi2 x"},
        Case{T::unicode_normalize, "\xFF\xC3\x28\xE4\xB8\xAD", "\xFF\xC3\x28\xE4\xB8\xAD"},
        Case{T::url_basename, "/path/to/index.php?a=b#c", "index.php"},
        Case{T::url_basename, "index.php", "index.php"}, Case{T::url_basename, "/dir/", ""},
        Case{T::url_path, "/a/b?c=d#e", "/a/b"}, Case{T::url_path, "/a#x?y", "/a"},
        Case{T::url_querystring, "/a?b=c&d=e#f", "b=c&d=e"}, Case{T::url_querystring, "/a#b?c", ""},
        Case{T::url_querystring, "/a", ""}, Case{T::url_querystring, "?x", "x"}));

TEST(Transform, EveryTransformerSurvivesAnyBytesWithinBounds) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  const std::string inputs[] = {"", all, "%", "&", "\\", "&#", "\\u", "%u12", "/..", "\xF0\x9F", all + all};
  for (int k = 0; k <= static_cast<int>(Transformer::url_querystring); ++k) {
    for (const std::string& in : inputs) {
      const std::string out = apply(static_cast<Transformer>(k), in);
      EXPECT_LE(out.size(), 4 * in.size() + 4) << k;
    }
  }
}

TEST(Transform, LongInputsStayLinear) {
  const std::string big(1 << 20, 'a');
  for (int k = 0; k <= static_cast<int>(Transformer::url_querystring); ++k) {
    for (const std::string& in : {big, std::string(1 << 18, '/') + "..", std::string(1 << 18, '%')}) {
      EXPECT_LE(apply(static_cast<Transformer>(k), in).size(), 4 * in.size());
    }
  }
}

}  // namespace
}  // namespace gw::appsec::detail

#include <gtest/gtest.h>

#include <string>

#include "appsec/detail.h"

namespace gw::appsec::detail {
namespace {

class SqliAttack : public ::testing::TestWithParam<const char*> {};
TEST_P(SqliAttack, IsFlagged) { EXPECT_TRUE(sqli_fingerprint(GetParam()).has_value()) << GetParam(); }
INSTANTIATE_TEST_SUITE_P(
    Shapes, SqliAttack,
    ::testing::Values("' or 1=1--", "1 or 1=1", "' or 'a'='a", "\" or \"\"=\"", "admin' or '1'='1'--",
                      "1' and '1'='1", "') or ('1'='1", "1 OR 1=1", "x' OR 'x'='x", "' or ''='", "' or 1--",
                      "' or '1", "1'||'1'='1", "' or ascii(substring(user(),1,1))>64--",
                      "1 union select 1,2,3", "-1 union all select null,version()--",
                      "' union select username,password from users--", "1' UNION SELECT @@version#",
                      "' and 1=0 union select 1,2--", "1; drop table users", "'; drop table users--",
                      "1; exec xp_cmdshell('dir')", "'; insert into users values (1)--", "admin'--",
                      "admin'#", "admin')--", "admin'/*", "admin';--", "sleep(5)", "1 and sleep(5)",
                      "1' AND SLEEP(5)#", "benchmark(1000000,md5(1))", "'; waitfor delay '0:0:5'--",
                      "1 AND (SELECT 1 FROM "
                      "(SELECT(SLEEP(5)))a)",
                      "' and extractvalue(1,concat(0x7e,version()))--", "1' order by 3--", "1 order by 3",
                      "1' group by 2#", "' or 0x31=0x31--", "' union select char(117,115,101,114)--",
                      "1 and (select count(*) from users)>0", "1/*!50000union*/ select 1,2",
                      "1 union/**/select 1,2", "1 or not 1=2", "select * from users where id=1",
                      "pg_sleep(10)"));

class SqliBenign : public ::testing::TestWithParam<const char*> {};
TEST_P(SqliBenign, IsNotFlagged) {
  const auto found = sqli_fingerprint(GetParam());
  EXPECT_FALSE(found.has_value()) << GetParam() << " -> " << found.value_or("");
}
INSTANTIATE_TEST_SUITE_P(
    Text, SqliBenign,
    ::testing::Values("", "O'Brien", "it's fine", "please select or drop me a line",
                      "x > 3 and y < 5 means the point is inside the box.", "cats or dogs", "rock 'n' roll",
                      "parents' or guardians' consent", "the students' and teachers' union",
                      "I'm here -- bye", "hello -- world", "1 or 2", "true or false", "Tom & Jerry",
                      "{\"name\":\"O'Brien\",\"q\":\"a or b\",\"n\":1}", "[1, 2, 3]", "john.doe@example.com",
                      "123e4567-e89b-12d3-a456-426614174000",
                      "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
                      "SGVsbG8gV29ybGQ=", "42", "-3.14", "1e10", "2024-01-02", "2024-01-02T10:30:00Z",
                      "https://example.com/a/b?c=d&e=f#g", "/api/v1/users/42", "shutdown", "select", "union",
                      "Select 2 items", "I need sleep (lots of it)", "order by name",
                      "drop me a line; select your size", "Don't stop; keep going", "a=1&b=2",
                      "C'est la vie, n'est-ce pas?", "It's 5 o'clock", "javascript: the good parts"));

TEST(Sqli, FingerprintShape) {
  EXPECT_EQ(sqli_fingerprint("1 or 1=1"), "1&1o1");
  EXPECT_EQ(sqli_fingerprint("admin'--"), "sc");
}

TEST(Sqli, InvalidBytesAndLongInputs) {
  const std::string bytes("\xff\xfe\x00'\x80 or \xc3\x28", 12);
  (void)sqli_fingerprint(bytes);
  std::string long_text;
  for (int k = 0; k < 20000; ++k) long_text += "word or ";
  EXPECT_FALSE(sqli_fingerprint(long_text).has_value());
  EXPECT_FALSE(sqli_fingerprint(std::string(100000, '\'')).has_value());
  (void)sqli_fingerprint(std::string(100000, '('));
  EXPECT_TRUE(sqli_fingerprint("' or 1=1--" + std::string(100000, 'a')).has_value());
}

class XssAttack : public ::testing::TestWithParam<const char*> {};
TEST_P(XssAttack, IsFlagged) { EXPECT_TRUE(looks_like_xss(GetParam())) << GetParam(); }
INSTANTIATE_TEST_SUITE_P(
    Shapes, XssAttack,
    ::testing::Values("<script>alert(1)</script>", "<SCRIPT SRC=//evil/x.js>", "<script", "</script><b>",
                      "<img src=x onerror=alert(1)>", "<svg/onload=alert(1)>", "<body onload=alert(1)>",
                      "<iframe src=//evil>", "<object data=x>", "<embed src=x>",
                      "<a href=\"javascript:alert(1)\">x</a>", "<a href='  java\tscript:alert(1)'>",
                      "<a href=vbscript:msgbox(1)>", "<iframe src=\"data:text/html,<script>\">",
                      "<div style=\"width: expression(alert(1))\">",
                      "<meta http-equiv=\"refresh\" content=\"0\">", "<base href=\"//evil/\">",
                      "\"><script>alert(1)</script>", "'><img src=x onerror=alert(1)>",
                      "\" onmouseover=\"alert(1)", "' autofocus onfocus=alert(1) x='", "x onerror=alert(1)",
                      "javascript:alert(1)", "data:text/html;base64,PHNjcmlwdD4=", "<scr<script>ipt>",
                      "<input autofocus onfocus=alert(1)>", "<details open ontoggle=alert(1)>",
                      "<form action=javascript:alert(1)><input type=submit>", "<IMG SRC=JaVaScRiPt:alert(1)>",
                      "<style>@import 'http://evil/x.css';</style>"));

TEST(Xss, NulBytesAreSkipped) { EXPECT_TRUE(looks_like_xss(std::string("<sc\0ript>alert(1)", 18))); }

class XssBenign : public ::testing::TestWithParam<const char*> {};
TEST_P(XssBenign, IsNotFlagged) { EXPECT_FALSE(looks_like_xss(GetParam())) << GetParam(); }
INSTANTIATE_TEST_SUITE_P(
    Text, XssBenign,
    ::testing::Values("", "a < b", "5<6", "I <3 you", "<a@b.c>", "mail <john@example.com>",
                      "<https://example.com>", "**bold** and _it_", "<b>hello</b>", "<p class=\"x\">hi</p>",
                      "<a href=\"https://example.com\">link</a>", "online=yes", "set onload later",
                      "javascript: the good parts", "I love javascript", "x > 3 and y < 4", "if (a<b && c>d)",
                      "{\"html\": \"plain\"}", "O'Brien", "scripts are fun", "<scripts>"));

TEST(Xss, InvalidBytesAndLongInputs) {
  const std::string bytes("\xff<\x00\x80 onerror\xc3", 11);
  (void)looks_like_xss(bytes);
  std::string many;
  for (int k = 0; k < 20000; ++k) many += "<a x=\"<a x=\"";
  (void)looks_like_xss(many);
  EXPECT_FALSE(looks_like_xss(std::string(100000, '<')));
  EXPECT_TRUE(looks_like_xss(std::string(100000, 'a') + "<script>"));
}

}  // namespace
}  // namespace gw::appsec::detail

// Settings::from_env (docs/datadog-appsec.md section 1) and the default obfuscation regexes (section 6).
#include <gtest/gtest.h>
#include <re2/re2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "appsec/appsec.h"
#include "appsec/detail.h"

namespace gw::appsec {
namespace {

using Env = std::map<std::string, std::string>;

// AppSec on unless `env` says otherwise: the other settings are only read then.
Settings load(Env env) {
  env.emplace("DD_APPSEC_ENABLED", "true");
  return Settings::from_env([&env](const char* name) -> const char* {
    const auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

// The LoadError message, or "" when from_env succeeds.
std::string load_error(const Env& env) {
  try {
    load(env);
  } catch (const LoadError& e) {
    return e.what();
  }
  return {};
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/gw_appsec_settings_XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
  std::string write(const std::string& name, const std::string& bytes) const {
    const std::string p = path_ + "/" + name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(Settings, Defaults) {
  EXPECT_FALSE(load({{"DD_APPSEC_ENABLED", ""}}).enabled);
  const Settings s = load({});  // on, nothing else set
  EXPECT_TRUE(s.enabled);
  EXPECT_EQ(s.rules_path, "");
  EXPECT_EQ(s.waf_timeout, std::chrono::microseconds(5000));
  EXPECT_FALSE(s.blocked_json);
  EXPECT_FALSE(s.blocked_html);
  EXPECT_FALSE(s.key_regex);
  EXPECT_FALSE(s.value_regex);
  EXPECT_EQ(s.trace_rate_limit, 100);
  EXPECT_EQ(s.client_ip_header, "");
  EXPECT_FALSE(Settings::from_env(nullptr).enabled);  // an empty EnvFn reads nothing
}

TEST(Settings, Enabled) {
  const std::vector<std::pair<std::string, bool>> cases = {
      {"true", true},   {"TRUE", true},   {"True", true}, {"1", true},    {" true ", true},
      {"false", false}, {"0", false},     {"", false},    {"yes", false}, {"on", false},
      {"2", false},     {"truee", false}, {"t", false},   {"01", false},
  };
  for (const auto& [value, want] : cases) {
    EXPECT_EQ(load({{"DD_APPSEC_ENABLED", value}}).enabled, want) << "'" << value << "'";
  }
}

// Off, nothing else is read: a stale or wrong AppSec setting cannot stop a gateway that does not use it
// (the start-up warns about it instead, see unheeded_settings).
TEST(Settings, OffReadsNothingElse) {
  const Settings s = load({{"DD_APPSEC_ENABLED", "false"},
                           {"DD_APPSEC_WAF_TIMEOUT", "abc"},
                           {"DD_APPSEC_HTTP_BLOCKED_TEMPLATE_JSON", "/nonexistent/block.json"}});
  EXPECT_FALSE(s.enabled);
}

TEST(Settings, RulesPathAndClientIpHeader) {
  const Settings s =
      load({{"DD_APPSEC_RULES", "/etc/rules.json"}, {"DD_TRACE_CLIENT_IP_HEADER", " X-Real-IP "}});
  EXPECT_EQ(s.rules_path, "/etc/rules.json");
  EXPECT_EQ(s.client_ip_header, "x-real-ip");
}

TEST(Settings, WafTimeout) {
  const std::vector<std::pair<std::string, long long>> good = {
      {"1", 1},       {"5000", 5000}, {"1000000", 1000000},
      {" 250 ", 250}, {"", 5000},     {"9223372036854775807", INT64_MAX}};
  for (const auto& [value, want] : good) {
    EXPECT_EQ(load({{"DD_APPSEC_WAF_TIMEOUT", value}}).waf_timeout.count(), want) << value;
  }
  for (const std::string bad :
       {"0", "-1", "abc", "10ms", "1.5", "0x10", "9223372036854775808", "+5", "1 2"}) {
    const std::string err = load_error({{"DD_APPSEC_WAF_TIMEOUT", bad}});
    EXPECT_EQ(err.rfind("DD_APPSEC_WAF_TIMEOUT: ", 0), 0u) << bad << ": " << err;
    EXPECT_NE(err.find("'" + bad + "'"), std::string::npos) << err;
  }
}

TEST(Settings, TraceRateLimit) {
  const std::vector<std::pair<std::string, double>> good = {{"0", 0},      {"100", 100}, {"2.5", 2.5},
                                                            {"1e3", 1000}, {"", 100},    {" 7 ", 7}};
  for (const auto& [value, want] : good) {
    EXPECT_EQ(load({{"DD_APPSEC_TRACE_RATE_LIMIT", value}}).trace_rate_limit, want) << value;
  }
  for (const std::string bad : {"-1", "abc", "inf", "nan", "1e999", "5/s", "-0.5", "--1"}) {
    const std::string err = load_error({{"DD_APPSEC_TRACE_RATE_LIMIT", bad}});
    EXPECT_EQ(err.rfind("DD_APPSEC_TRACE_RATE_LIMIT: ", 0), 0u) << bad << ": " << err;
  }
}

TEST(Settings, ObfuscationRegexes) {
  Settings s = load({{"DD_APPSEC_OBFUSCATION_PARAMETER_KEY_REGEXP", ""},
                     {"DD_APPSEC_OBFUSCATION_PARAMETER_VALUE_REGEXP", "(?i)secret"}});
  ASSERT_TRUE(s.key_regex);
  EXPECT_EQ(*s.key_regex, "");  // set but empty: redaction by key is off
  ASSERT_TRUE(s.value_regex);
  EXPECT_EQ(*s.value_regex, "(?i)secret");
  s = load({{"DD_APPSEC_OBFUSCATION_PARAMETER_KEY_REGEXP", "^pwd$"}});
  EXPECT_EQ(s.key_regex, "^pwd$");
  EXPECT_FALSE(s.value_regex);  // unset: Datadog's default
}

TEST(Settings, Templates) {
  TempDir dir;
  const std::string json = std::string("{\"x\":1}\n\0\xff", 10);
  const std::string html = "<html>\r\n</html>";
  const Settings s = load({{"DD_APPSEC_HTTP_BLOCKED_TEMPLATE_JSON", dir.write("t.json", json)},
                           {"DD_APPSEC_HTTP_BLOCKED_TEMPLATE_HTML", dir.write("t.html", html)}});
  EXPECT_EQ(s.blocked_json, json);
  EXPECT_EQ(s.blocked_html, html);
  EXPECT_EQ(load({{"DD_APPSEC_HTTP_BLOCKED_TEMPLATE_JSON", dir.write("empty", "")}}).blocked_json, "");
  std::string big(200000, 'x');
  EXPECT_EQ(load({{"DD_APPSEC_HTTP_BLOCKED_TEMPLATE_HTML", dir.write("big", big)}}).blocked_html, big);
  EXPECT_FALSE(load({{"DD_APPSEC_HTTP_BLOCKED_TEMPLATE_HTML", ""}}).blocked_html);  // empty path: unset
}

TEST(Settings, TemplateErrors) {
  TempDir dir;
  const std::string missing = dir.path() + "/missing.json";
  EXPECT_EQ(load_error({{"DD_APPSEC_HTTP_BLOCKED_TEMPLATE_JSON", missing}}),
            "DD_APPSEC_HTTP_BLOCKED_TEMPLATE_JSON: cannot read '" + missing + "': No such file or directory");
  EXPECT_EQ(load_error({{"DD_APPSEC_HTTP_BLOCKED_TEMPLATE_HTML", dir.path()}}),
            "DD_APPSEC_HTTP_BLOCKED_TEMPLATE_HTML: cannot read '" + dir.path() + "': Is a directory");
  if (::geteuid() != 0) {  // root reads anything
    const std::string locked = dir.write("locked.html", "x");
    ::chmod(locked.c_str(), 0);
    EXPECT_EQ(load_error({{"DD_APPSEC_HTTP_BLOCKED_TEMPLATE_HTML", locked}}),
              "DD_APPSEC_HTTP_BLOCKED_TEMPLATE_HTML: cannot read '" + locked + "': Permission denied");
  }
}

// ---- default obfuscation regexes ---------------------------------------------------------------------

RE2::Options libddwaf_options() {
  RE2::Options o;  // as libddwaf compiles them: case-insensitive, bounded memory
  o.set_case_sensitive(false);
  o.set_max_mem(512 * 1024);
  o.set_log_errors(false);
  return o;
}

// FNV-1a 64 of libddwaf's default_key_regex_str / default_value_regex_str (src/obfuscator.hpp @16a1015):
// pins the exact text without a second copy of it here.
std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

TEST(Obfuscation, DefaultRegexesAreDatadogs) {
  EXPECT_EQ(detail::default_key_regex().size(), 190u);
  EXPECT_EQ(fnv1a(detail::default_key_regex()), 0x4a1b4a2694cfc526ULL);
  EXPECT_EQ(detail::default_value_regex().size(), 578u);
  EXPECT_EQ(fnv1a(detail::default_value_regex()), 0x2e8ac7994cef5298ULL);
}

TEST(Obfuscation, DefaultRegexesCompileWithRe2) {
  const RE2 key(detail::default_key_regex(), libddwaf_options());
  const RE2 value(detail::default_value_regex(), libddwaf_options());
  EXPECT_TRUE(key.ok()) << key.error();
  EXPECT_TRUE(value.ok()) << value.error();
  EXPECT_TRUE(RE2(detail::default_value_regex()).ok());  // also with RE2's defaults
}

TEST(Obfuscation, DefaultKeyRegex) {
  const RE2 key(detail::default_key_regex(), libddwaf_options());
  for (const char* k :
       {"password",  "PASSWORD",        "passwd",        "pwd",           "api_key",           "apikey",
        "Api-Key",   "secret",          "authorization", "Authorization", "access_token",      "token",
        "jwt",       "bearer",          "jsessionid",    "PHPSESSID",     "asp.net_sessionid", "sid",
        "signature", "consumer_secret", "private-key"}) {
    EXPECT_TRUE(RE2::PartialMatch(k, key)) << k;
  }
  // Datadog's current key regex has no "session_id" (it only knows the jsessionid / phpsessid /
  // asp.net sessionid / sid spellings); the product matches Datadog, so neither does ours.
  for (const char* k : {"username", "q", "id", "user", "email", "name", "session_id", ""}) {
    EXPECT_FALSE(RE2::PartialMatch(k, key)) << k;
  }
}

TEST(Obfuscation, DefaultValueRegex) {
  const RE2 value(detail::default_value_regex(), libddwaf_options());
  for (const char* v :
       {"Bearer xyz.abc-123_def", "Authorization: bearer abcdefghijklmnop",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "password=secret", "user=bob&pwd=hunter2", "{\"api_key\": \"abc123\"}", "token: abcdefghij123",
        "ghp_0123456789abcdefghijABCDEFGHIJ012345",
        "-----BEGIN RSA PRIVATE KEY-----MIIEow-----END RSA PRIVATE KEY"}) {
    EXPECT_TRUE(RE2::PartialMatch(v, value)) << v;
  }
  for (const char* v :
       {"hello world", "username=bob", "q=search", "1' OR 1=1 --", "<script>alert(1)</script>"}) {
    EXPECT_FALSE(RE2::PartialMatch(v, value)) << v;
  }
  // Only the secret is captured (partial redaction): password=secret -> group "secret".
  std::string g1, g2, g3;
  ASSERT_TRUE(RE2::PartialMatch("password=secret&x=1", value, &g1));
  EXPECT_EQ(g1, "secret");
  ASSERT_TRUE(RE2::PartialMatch("Bearer abc.def", value, &g1, &g2, &g3));
  EXPECT_EQ(g3, "abc.def");
}

}  // namespace
}  // namespace gw::appsec

namespace gw::appsec {
namespace {

TEST(UnheededSettings, UnknownAppSecVariablesAndSettingsWhileOffAreNamed) {
  const std::vector<std::string> names = {"PATH",
                                          "DD_APPSEC_ENABLED",
                                          "DD_APPSEC_RULES",
                                          "DD_APPSEC_SCA_ENABLED",
                                          "DD_API_SECURITY_ENABLED",
                                          "DD_TRACE_ENABLED"};
  EXPECT_EQ(unheeded_settings(names, true),
            (std::vector<std::string>{
                "DD_APPSEC_SCA_ENABLED is not implemented by this gateway's WAF and has no effect",
                "DD_API_SECURITY_ENABLED is not implemented by this gateway's WAF and has no effect"}));
  EXPECT_EQ(unheeded_settings(names, false),
            (std::vector<std::string>{
                "DD_APPSEC_RULES is set but DD_APPSEC_ENABLED is not true: the WAF is off",
                "DD_APPSEC_SCA_ENABLED is not implemented by this gateway's WAF and has no effect",
                "DD_API_SECURITY_ENABLED is not implemented by this gateway's WAF and has no effect"}));
  EXPECT_TRUE(unheeded_settings({"PATH", "DD_APPSEC_ENABLED"}, false).empty());
}

}  // namespace
}  // namespace gw::appsec

#include "config/config.h"

#include <gtest/gtest.h>

using gw::config::ConfigError;
using gw::config::Environment;
using gw::config::load_text;

namespace {

gw::config::Service load(const std::string& text, Environment env = {}) {
  return load_text(text, "krakend.json", env);
}

std::string error_of(const std::string& text, Environment env = {}) {
  try {
    load(text, env);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

const char* kMinimal = R"({
  "version": 3,
  "endpoints": [
    {"endpoint": "/users/{id}", "backend": [{"host": ["localhost:8081"], "url_pattern": "/u/{id}"}]}
  ]
})";

}  // namespace

TEST(Config, Defaults) {
  auto s = load(kMinimal);
  EXPECT_EQ(s.port, 8080);
  EXPECT_EQ(s.timeout, std::chrono::seconds(2));
  ASSERT_EQ(s.endpoints.size(), 1u);
  const auto& e = s.endpoints[0];
  EXPECT_EQ(e.method, "GET");
  EXPECT_EQ(e.output_encoding, "json");
  EXPECT_EQ(e.timeout, std::chrono::seconds(2));
  EXPECT_EQ(e.route, "/users/:id");
  EXPECT_EQ(e.input_headers, std::vector<std::string>{"Content-Type"});
  ASSERT_EQ(e.backends.size(), 1u);
  const auto& b = e.backends[0];
  EXPECT_EQ(b.method, "GET");
  EXPECT_EQ(b.encoding, "json");
  ASSERT_EQ(b.hosts.size(), 1u);
  EXPECT_EQ(b.hosts[0].scheme, "http");
  EXPECT_EQ(b.hosts[0].host, "localhost");
  EXPECT_EQ(b.hosts[0].port, 8081);
}

TEST(Config, VersionMustBeThree) {
  EXPECT_NE(error_of(R"({"version": 2})").find("unsupported version: 2 (want: 3)"), std::string::npos);
  EXPECT_NE(error_of(R"({"port": 1})").find("unsupported version: 0 (want: 3)"), std::string::npos);
}

TEST(Config, ErrorNamesFileLineColumnAndField) {
  std::string text = "{\n  \"version\": 3,\n  \"timeout\": \"2 seconds\"\n}";
  std::string err = error_of(text);
  EXPECT_NE(err.find("'krakend.json'"), std::string::npos) << err;
  EXPECT_NE(err.find("line 3, column 14"), std::string::npos) << err;
  EXPECT_NE(err.find("field 'timeout'"), std::string::npos) << err;
}

TEST(Config, SyntaxErrorHasPosition) {
  std::string err = error_of("{\n  \"version\": 3,\n  \"port\": ,\n}");
  EXPECT_NE(err.find("line 3"), std::string::npos) << err;
}

TEST(Config, EndpointWithoutBackendsFails) {
  std::string err = error_of(R"({"version":3,"endpoints":[{"endpoint":"/x","backend":[]}]})");
  EXPECT_NE(err.find("ignoring the 'GET /x' endpoint, since it has 0 backends defined!"), std::string::npos)
      << err;
}

TEST(Config, ReservedPathsAreInvalid) {
  for (const char* p : {"/__health", "/foo/__debug/x", "/a/*b", "__echo"}) {
    std::string text = std::string(R"({"version":3,"host":["h:80"],"endpoints":[{"endpoint":")") + p +
                       R"(","backend":[{"url_pattern":"/"}]}]})";
    EXPECT_NE(error_of(text).find("since it is invalid"), std::string::npos) << p;
  }
  std::string ok =
      R"({"version":3,"host":["h:80"],"endpoints":[{"endpoint":"/__healthz","backend":[{"url_pattern":"/"}]}]})";
  EXPECT_EQ(error_of(ok), "");
}

TEST(Config, UnsupportedMethodIsSkippedWithWarning) {
  auto s = load(
      R"({"version":3,"host":["h:80"],"endpoints":[{"endpoint":"/x","method":"HEAD","backend":[{"url_pattern":"/"}]}]})");
  EXPECT_TRUE(s.endpoints.empty());
  ASSERT_EQ(s.warnings.size(), 1u);
}

TEST(Config, BackendParamsMustExistInEndpoint) {
  std::string err = error_of(
      R"({"version":3,"host":["h:80"],"endpoints":[{"endpoint":"/x/{a}","backend":[{"url_pattern":"/{b}"}]}]})");
  EXPECT_NE(err.find("undefined output param 'b'"), std::string::npos) << err;
  EXPECT_EQ(
      error_of(
          R"({"version":3,"host":["h:80"],"endpoints":[{"endpoint":"/x/{a}","backend":[{"url_pattern":"/{resp0_x}/{a}"}]}]})"),
      "");
}

TEST(Config, HostSanitization) {
  auto s = load(
      R"({"version":3,"endpoints":[{"endpoint":"/x","backend":[{"host":["http://example.com/"],"url_pattern":"x"}]}]})");
  EXPECT_EQ(s.endpoints[0].backends[0].hosts[0].host, "example.com");
  EXPECT_EQ(s.endpoints[0].backends[0].hosts[0].port, 80);
  EXPECT_EQ(s.endpoints[0].backends[0].url_pattern, "/x");
  std::string err = error_of(
      R"({"version":3,"endpoints":[{"endpoint":"/x","backend":[{"host":["http://a.com/api"],"url_pattern":"/"}]}]})");
  EXPECT_NE(err.find("invalid host"), std::string::npos) << err;
}

TEST(Config, NoOpNeedsOneBackend) {
  std::string err = error_of(
      R"({"version":3,"host":["h:80"],"endpoints":[{"endpoint":"/x","output_encoding":"no-op","backend":[{"url_pattern":"/"},{"url_pattern":"/"}]}]})");
  EXPECT_NE(err.find("can not use NoOp encoding"), std::string::npos);
  auto s = load(
      R"({"version":3,"host":["h:80"],"endpoints":[{"endpoint":"/x","output_encoding":"no-op","backend":[{"url_pattern":"/"}]}]})");
  EXPECT_EQ(s.endpoints[0].backends[0].encoding, "no-op");
}

TEST(Config, EnvironmentOverridesTopLevelKeys) {
  auto s = load(kMinimal, {{"KRAKEND_PORT", "9000"}, {"KRAKEND_TIMEOUT", "500ms"}});
  EXPECT_EQ(s.port, 9000);
  EXPECT_EQ(s.timeout, std::chrono::milliseconds(500));
  std::string err = error_of(kMinimal, {{"KRAKEND_TIMEOUT", "soon"}});
  EXPECT_NE(err.find("KRAKEND_"), std::string::npos) << err;
}

TEST(Config, HostOverridesRewriteBackends) {
  auto s = load(
      R"({"version":3,"endpoints":[{"endpoint":"/x","backend":[{"host":["http://auth-python-svc:8000"],"url_pattern":"/"}]}]})",
      {{"GATEWAY_HOST_OVERRIDES", "auth-python-svc:8000=127.0.0.1:41001"}});
  EXPECT_EQ(s.endpoints[0].backends[0].hosts[0].host, "127.0.0.1");
  EXPECT_EQ(s.endpoints[0].backends[0].hosts[0].port, 41001);
}

TEST(Config, UnknownExtraConfigIgnoredAndWeakTyping) {
  auto s = load(
      R"({"version":3,"port":"8181","extra_config":{"acme/unknown":{"x":1},"router":{"return_error_msg":"true"}},"host":["h:80"],
                  "endpoints":[{"endpoint":"/x","backend":[{"url_pattern":"/"}]}]})");
  EXPECT_EQ(s.port, 8181);
  EXPECT_TRUE(s.router.return_error_msg);
  auto skip =
      load(R"({"version":3,"extra_config":{"router":{"logger_skip_paths":["/__health","/health"]}}})");
  EXPECT_EQ(skip.router.logger_skip_paths, (std::vector<std::string>{"/__health", "/health"}));
}

TEST(Config, GoDurations) {
  using gw::config::parse_go_duration;
  EXPECT_EQ(*parse_go_duration("1.5s"), std::chrono::milliseconds(1500));
  EXPECT_EQ(*parse_go_duration("1h2m"), std::chrono::minutes(62));
  EXPECT_EQ(*parse_go_duration("0"), std::chrono::nanoseconds(0));
  EXPECT_FALSE(parse_go_duration("10"));
  EXPECT_FALSE(parse_go_duration("abc"));
}

TEST(Config, GinRoute) { EXPECT_EQ(gw::config::to_gin_route("/a/{b}/c{d}/{e}"), "/a/:b/c{d}/:e"); }

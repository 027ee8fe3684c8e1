// extra_config namespaces: refused, warned, unknown (with a suggestion), legacy names, the env switch.
#include <gtest/gtest.h>

#include "config/config.h"

using gw::config::ConfigError;
using gw::config::Environment;

namespace {

gw::config::Service load(const std::string& text, Environment env = {}) {
  return gw::config::load_text(text, "krakend.json", env);
}

std::string error_of(const std::string& text, Environment env = {}) {
  try {
    load(text, env);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// One endpoint; `endpoint_extra` / `backend_extra` are inserted as extra_config objects.
std::string config(const std::string& service_extra, const std::string& endpoint_extra = "{}",
                   const std::string& backend_extra = "{}") {
  return "{\n  \"version\": 3,\n  \"host\": [\"h:80\"],\n  \"extra_config\": " + service_extra +
         ",\n  \"endpoints\": [\n    {\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/\"}]},\n"
         "    {\"endpoint\": \"/b\", \"extra_config\": " +
         endpoint_extra +
         ",\n     \"backend\": [{\"url_pattern\": \"/\", \"extra_config\": " + backend_extra +
         "}]}\n  ]\n}\n";
}

}  // namespace

TEST(Namespace, RefusedEndpointNamespaceNamesLineColumnPathAndOverride) {
  std::string err = error_of(config("{}", R"({"auth/validator": {"alg": "RS256"}})"));
  EXPECT_TRUE(contains(err, "'krakend.json': line 7, column 59")) << err;
  EXPECT_TRUE(contains(err, "field 'endpoints[1].extra_config.auth/validator'")) << err;
  EXPECT_TRUE(contains(err, "namespace 'auth/validator' (JWT validation) is not implemented")) << err;
  EXPECT_TRUE(contains(err, "GATEWAY_ALLOW_UNIMPLEMENTED=true")) << err;
}

TEST(Namespace, RefusesProtectiveAndBackendTypeNamespacesAtEveryLevel) {
  for (const char* ns : {"security/http", "security/bot-detector", "auth/api-keys", "qos/ratelimit/service"})
    EXPECT_TRUE(contains(error_of(config(std::string("{\"") + ns + "\": {}}")),
                         "field 'extra_config." + std::string(ns)))
        << ns;
  for (const char* ns : {"qos/ratelimit/router", "validation/json-schema", "modifier/lua-proxy", "websocket"})
    EXPECT_TRUE(contains(error_of(config("{}", std::string("{\"") + ns + "\": {}}")),
                         "endpoints[1].extra_config." + std::string(ns)))
        << ns;
  for (const char* ns :
       {"qos/ratelimit/proxy", "qos/circuit-breaker", "backend/lambda", "backend/amqp/consumer",
        "backend/grpc", "auth/client-credentials", "plugin/http-client"})
    EXPECT_TRUE(contains(error_of(config("{}", "{}", std::string("{\"") + ns + "\": {}}")),
                         "endpoints[1].backend[0].extra_config." + std::string(ns)))
        << ns;
}

TEST(Namespace, CorsIsImplementedAtServiceLevelButRefusedPerEndpoint) {
  EXPECT_EQ(error_of(config(R"({"security/cors": {}})")), "");
  std::string err = error_of(config("{}", R"({"security/cors": {}})"));
  EXPECT_TRUE(contains(err, "endpoints[1].extra_config.security/cors")) << err;
}

TEST(Namespace, ServiceTlsIsRefusedUnlessDisabled) {
  std::string text = "{\"version\": 3,\n \"tls\": {\"public_key\": \"a.pem\", \"private_key\": \"a.key\"}}";
  std::string err = error_of(text);
  EXPECT_TRUE(contains(err, "line 2, column 9, field 'tls'")) << err;
  EXPECT_TRUE(contains(err, "plain HTTP")) << err;
  EXPECT_EQ(error_of(R"({"version": 3, "tls": {"disabled": true}})"), "");
}

TEST(Namespace, WarnedNamespacesAreNamedOnceWithPosition) {
  auto s = load(config(R"({"telemetry/influx": {}, "documentation/openapi": {}})", "{}",
                       R"({"modifier/martian": {}})"));
  std::string w = joined(s.warnings);
  ASSERT_EQ(s.warnings.size(), 3u) << w;
  EXPECT_TRUE(contains(w,
                       "'krakend.json': line 4, column 40, field 'extra_config.telemetry/influx': namespace "
                       "'telemetry/influx' (InfluxDB metrics) is not implemented by this gateway; ignored"))
      << w;
  EXPECT_TRUE(contains(w, "field 'extra_config.documentation/openapi'")) << w;
  EXPECT_TRUE(contains(w, "field 'endpoints[1].backend[0].extra_config.modifier/martian'")) << w;
}

TEST(Namespace, ImplementedNamespacesAndCommentKeysAreSilent) {
  auto s = load(config(R"({"router": {}, "telemetry/logging": {"level": "INFO"}, "telemetry/logstash": {},
                         "telemetry/opentelemetry": {}, "@comment": "x", "$ref": "y"})",
                       R"({"proxy": {"sequential": false}})",
                       R"({"backend/http": {}, "backend/http/client": {}, "proxy": {}})"));
  EXPECT_TRUE(s.warnings.empty()) << joined(s.warnings);
}

TEST(Namespace, UnknownNameSuggestsTheNearestKnownOne) {
  auto s = load(config("{}", R"({"qos/ratelimit/ruoter": {"max_rate": 10}})"));
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_TRUE(contains(s.warnings[0],
                       "field 'endpoints[1].extra_config.qos/ratelimit/ruoter': unknown namespace "
                       "'qos/ratelimit/ruoter' (did you mean 'qos/ratelimit/router'?); ignored"))
      << s.warnings[0];
  auto far = load(config(R"({"acme/unknown": {}})"));
  ASSERT_EQ(far.warnings.size(), 1u);
  EXPECT_TRUE(contains(far.warnings[0], "unknown namespace 'acme/unknown'; ignored")) << far.warnings[0];
}

TEST(Namespace, WrongLevelIsAWarning) {
  auto s = load(config("{}", R"({"router": {}})", R"({"auth/validator": {}})"));
  std::string w = joined(s.warnings);
  ASSERT_EQ(s.warnings.size(), 2u) << w;
  EXPECT_TRUE(
      contains(w, "namespace 'router' is not read at the endpoint level (KrakenD reads it at: service)"))
      << w;
  EXPECT_TRUE(contains(w, "namespace 'auth/validator' is not read at the backend level")) << w;
}

TEST(Namespace, LegacyNamesAreRecognised) {
  std::string err = error_of(config("{}", R"({"github.com/devopsfaith/krakend-jose/validator": {}})"));
  EXPECT_TRUE(contains(err, "namespace 'github.com/devopsfaith/krakend-jose/validator' (= 'auth/validator')"))
      << err;
  err = error_of(config(R"({"github_com/devopsfaith/krakend-httpsecure": {}})"));
  EXPECT_TRUE(contains(err, "(= 'security/http')")) << err;
  // 1.x rate limit names: CE 2 ignores them silently; the author still meant a limit.
  err = error_of(config("{}", R"({"github.com/devopsfaith/krakend-ratelimit/juju/router": {}})"));
  EXPECT_TRUE(contains(err, "(= 'qos/ratelimit/router')")) << err;
  auto s = load(config(R"({"github_com/devopsfaith/krakend-cors": {"allow_origins": ["https://a.com"]}})"));
  ASSERT_TRUE(s.cors);
  EXPECT_EQ(s.cors->allow_origins, std::vector<std::string>{"https://a.com"});
  // The other spelling of a legacy prefix is recognised and read, not silently skipped.
  auto dotted = load(config(R"({"github.com/devopsfaith/krakend-gologging": {"level": "ERROR"}})"));
  EXPECT_TRUE(dotted.warnings.empty());
  ASSERT_TRUE(dotted.telemetry.logging);
  EXPECT_EQ(dotted.telemetry.logging->level, "ERROR");
  EXPECT_EQ(gw::config::canonical_namespace("github_com/devopsfaith/krakend-gologging"), "telemetry/logging");
  ASSERT_NE(gw::config::lookup_namespace("github_com/devopsfaith/krakend-jose/validator"), nullptr);
}

TEST(Namespace, EnvironmentSwitchTurnsRefusalsIntoLoudWarnings) {
  const Environment allow = {{"GATEWAY_ALLOW_UNIMPLEMENTED", "true"}};
  auto s = load(config(R"({"security/http": {}})", R"({"auth/validator": {}})"), allow);
  std::string w = joined(s.warnings);
  ASSERT_EQ(s.warnings.size(), 2u) << w;
  EXPECT_EQ(s.warnings[1].rfind("NOT ENFORCED: 'krakend.json': line 7, column 59, field "
                                "'endpoints[1].extra_config.auth/validator': namespace 'auth/validator'",
                                0),
            0u)
      << w;
  EXPECT_TRUE(contains(w, "GATEWAY_ALLOW_UNIMPLEMENTED=true lets the gateway serve WITHOUT it")) << w;
  auto tls = load(R"({"version": 3, "tls": {}})", allow);
  ASSERT_EQ(tls.warnings.size(), 1u);
  EXPECT_EQ(tls.warnings[0].rfind("NOT ENFORCED: ", 0), 0u);
  // Off unless true/1; a typo in the switch is an error, not a silent "off".
  EXPECT_NE(error_of(config("{}", R"({"auth/validator": {}})"), {{"GATEWAY_ALLOW_UNIMPLEMENTED", "false"}}),
            "");
  EXPECT_TRUE(contains(error_of(config("{}"), {{"GATEWAY_ALLOW_UNIMPLEMENTED", "yes"}}),
                       "GATEWAY_ALLOW_UNIMPLEMENTED: expected true or false, got 'yes'"));
}

TEST(Namespace, TopLevelKeysWithoutImplementationAreWarned) {
  auto s = load(R"({"version": 3, "client_tls": {}, "plugin": {"pattern": ".so", "folder": "/p"},
                    "async_agent": []})");
  std::string w = joined(s.warnings);
  ASSERT_EQ(s.warnings.size(), 3u) << w;
  EXPECT_TRUE(contains(w, "field 'client_tls'")) << w;
  EXPECT_TRUE(contains(w, "field 'plugin'")) << w;
  EXPECT_TRUE(contains(w, "field 'async_agent'")) << w;
}

TEST(Namespace, EveryRefusedNamespaceHasAReason) {
  for (const char* ns : {"auth/validator", "security/policies", "validation/cel", "governance/quota"}) {
    const auto* info = gw::config::lookup_namespace(ns);
    ASSERT_NE(info, nullptr) << ns;
    EXPECT_EQ(info->otherwise, gw::config::Unimplemented::refuse) << ns;
    EXPECT_FALSE(info->what.empty()) << ns;
  }
  EXPECT_EQ(gw::config::lookup_namespace("telemetry/influx")->otherwise, gw::config::Unimplemented::warn);
  EXPECT_EQ(gw::config::lookup_namespace("not/a/namespace"), nullptr);
}

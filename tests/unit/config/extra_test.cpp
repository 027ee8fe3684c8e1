// Typed security/cors and telemetry/* reads: defaults, values, and errors with line:column and path.
#include <gtest/gtest.h>

#include "config/config.h"

using gw::config::ConfigError;

namespace {

gw::config::Service load(const std::string& text) { return gw::config::load_text(text, "krakend.json", {}); }

std::string error_of(const std::string& text) {
  try {
    load(text);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

bool contains_all(const std::string& text, std::initializer_list<const char*> parts) {
  for (const char* p : parts)
    if (text.find(p) == std::string::npos) return false;
  return true;
}

// The namespace on line 2 of the file, so errors have a predictable line.
std::string service(const std::string& ns, const std::string& body) {
  return "{\"version\": 3,\n \"extra_config\": {\"" + ns + "\": " + body + "}}";
}

}  // namespace

TEST(ConfigCors, AbsentMeansNoCors) { EXPECT_FALSE(load(R"({"version": 3})").cors); }

TEST(ConfigCors, DefaultsAreKrakendCors) {
  auto s = load(service("security/cors", "{}"));
  ASSERT_TRUE(s.cors);
  const auto& c = *s.cors;
  EXPECT_EQ(c.allow_origins, std::vector<std::string>{"*"});
  EXPECT_TRUE(c.allow_methods.empty());
  EXPECT_EQ(c.allow_headers, std::vector<std::string>{"*"});
  EXPECT_TRUE(c.expose_headers.empty());
  EXPECT_FALSE(c.allow_credentials);
  EXPECT_EQ(c.max_age.count(), 0);
  EXPECT_FALSE(c.options_passthrough);
  EXPECT_EQ(c.options_success_status, 204);
  EXPECT_FALSE(c.allow_private_network);
  EXPECT_FALSE(c.debug);
}

TEST(ConfigCors, EveryOption) {
  auto s = load(service("security/cors", R"({
    "allow_origins": ["https://a.example", "https://*.b.example"], "allow_methods": ["GET", "PUT"],
    "allow_headers": ["Authorization"], "expose_headers": ["Content-Length"], "allow_credentials": true,
    "max_age": "12h", "options_passthrough": true, "options_success_status": 200,
    "allow_private_network": "true", "debug": true})"));
  ASSERT_TRUE(s.cors);
  const auto& c = *s.cors;
  EXPECT_EQ(c.allow_origins, (std::vector<std::string>{"https://a.example", "https://*.b.example"}));
  EXPECT_EQ(c.allow_methods, (std::vector<std::string>{"GET", "PUT"}));
  EXPECT_EQ(c.allow_headers, std::vector<std::string>{"Authorization"});
  EXPECT_EQ(c.expose_headers, std::vector<std::string>{"Content-Length"});
  EXPECT_TRUE(c.allow_credentials);
  EXPECT_EQ(c.max_age, std::chrono::hours(12));
  EXPECT_TRUE(c.options_passthrough);
  EXPECT_EQ(c.options_success_status, 200);
  EXPECT_TRUE(c.allow_private_network);
  EXPECT_TRUE(c.debug);
}

TEST(ConfigCors, BadValuesNameLineColumnAndPath) {
  std::string err = error_of(service("security/cors", R"({"max_age": "a day"})"));
  EXPECT_TRUE(contains_all(
      err, {"line 2, column 48", "field 'extra_config.security/cors.max_age'", "invalid duration \"a day\""}))
      << err;
  err = error_of(service("security/cors", R"({"allow_origins": "*"})"));
  EXPECT_NE(err.find("field 'extra_config.security/cors.allow_origins': expected an array"),
            std::string::npos)
      << err;
  err = error_of(service("security/cors", R"({"allow_credentials": "maybe"})"));
  EXPECT_NE(err.find("field 'extra_config.security/cors.allow_credentials': expected a boolean"),
            std::string::npos)
      << err;
  err = error_of(service("security/cors", R"({"options_success_status": 1000})"));
  EXPECT_NE(err.find("invalid HTTP status 1000"), std::string::npos) << err;
  err = error_of(service("security/cors", "[]"));
  EXPECT_NE(err.find("field 'extra_config.security/cors': expected an object"), std::string::npos) << err;
}

TEST(ConfigTelemetry, AbsentNamespacesStayUnset) {
  auto s = load(R"({"version": 3})");
  EXPECT_FALSE(s.telemetry.logging);
  EXPECT_FALSE(s.telemetry.opentelemetry);
}

TEST(ConfigTelemetry, LoggingFieldsAndLogstash) {
  auto s = load(service("telemetry/logging", R"({"level": "warn", "prefix": "[GW]", "stdout": "false"})"));
  ASSERT_TRUE(s.telemetry.logging);
  EXPECT_EQ(s.telemetry.logging->level, "WARN");
  EXPECT_EQ(s.telemetry.logging->prefix, "[GW]");
  EXPECT_FALSE(s.telemetry.logging->stdout_enabled);
  EXPECT_EQ(s.telemetry.logging->format, "default");
  auto ls = load(R"({"version": 3, "extra_config": {"telemetry/logging": {"level": "DEBUG"},
                     "telemetry/logstash": {"enabled": true}}})");
  EXPECT_EQ(ls.telemetry.logging->format, "logstash");
}

TEST(ConfigTelemetry, BadLoggingValuesAreErrors) {
  std::string err = error_of(service("telemetry/logging", R"({"level": "LOUD"})"));
  EXPECT_TRUE(contains_all(err, {"'krakend.json': line 2, column 50",
                                 "field 'extra_config.telemetry/logging.level'", "unknown log level 'LOUD'"}))
      << err;
  err = error_of(service("telemetry/logging", R"({"stdout": "maybe"})"));
  EXPECT_NE(err.find("field 'extra_config.telemetry/logging.stdout': expected a boolean"), std::string::npos)
      << err;
  err = error_of(service("telemetry/logging", R"({"format": "xml"})"));
  EXPECT_NE(err.find("unknown format 'xml'"), std::string::npos) << err;
}

TEST(ConfigTelemetry, OpenTelemetryExportersAndLayers) {
  auto s = load(service("telemetry/opentelemetry", R"({"service_name": "gw", "deploy_env": "prod",
    "exporters": {"prometheus": [{"name": "p", "port": "9191", "process_metrics": true},
                                 {"name": "q", "disable_metrics": true}],
                  "otlp": [{"name": "o", "host": "collector", "use_http": true}]},
    "layers": {"global": {"metrics_static_attributes": [{"key": "k", "value": "v"}, {"key": "", "value": "x"}]},
               "backend": {"metrics": {"detailed_connection": true,
                                       "static_attributes": [{"key": "b", "value": "1"}]}}}})"));
  ASSERT_TRUE(s.telemetry.opentelemetry);
  const auto& o = *s.telemetry.opentelemetry;
  EXPECT_EQ(o.service_name, "gw");
  EXPECT_EQ(o.deploy_env, "prod");
  EXPECT_TRUE(o.has_prometheus);
  ASSERT_EQ(o.prometheus.size(), 2u);
  EXPECT_EQ(o.prometheus[0].port, 9191);
  EXPECT_TRUE(o.prometheus[0].process_metrics);
  EXPECT_EQ(o.prometheus[1].port, 9090);
  EXPECT_TRUE(o.prometheus[1].disable_metrics);
  ASSERT_EQ(o.otlp.size(), 1u);
  EXPECT_EQ(o.otlp[0].host, "collector");
  EXPECT_EQ(o.otlp[0].port, 4318);
  EXPECT_TRUE(o.otlp[0].use_http);
  EXPECT_EQ(o.global_metrics_static_attributes, (gw::config::Attributes{{"k", "v"}}));
  EXPECT_EQ(o.backend_metrics_static_attributes, (gw::config::Attributes{{"b", "1"}}));
  EXPECT_TRUE(o.backend_detailed_connection);
}

TEST(ConfigTelemetry, BadOpenTelemetryValuesAreErrors) {
  std::string err =
      error_of(service("telemetry/opentelemetry", R"({"exporters": {"prometheus": [{"port": "abc"}]}})"));
  EXPECT_TRUE(contains_all(
      err, {"line 2, column 85", "field 'extra_config.telemetry/opentelemetry.exporters.prometheus[0].port'",
            "expected an integer, got 'abc'"}))
      << err;
  err = error_of(service("telemetry/opentelemetry", R"({"exporters": {"prometheus": [{"port": 70000}]}})"));
  EXPECT_NE(err.find("invalid port 70000"), std::string::npos) << err;
  err = error_of(service("telemetry/opentelemetry", R"({"exporters": {"otlp": {"port": 1}}})"));
  EXPECT_NE(err.find("field 'extra_config.telemetry/opentelemetry.exporters.otlp': expected an array"),
            std::string::npos)
      << err;
  err = error_of(
      service("telemetry/opentelemetry", R"({"layers": {"global": {"metrics_static_attributes": [1]}}})"));
  EXPECT_NE(err.find("layers.global.metrics_static_attributes[0]': expected an object"), std::string::npos)
      << err;
}

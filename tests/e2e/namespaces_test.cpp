// Namespaces the gateway does not implement: refused by check and run (nothing served), warned, or let
// through loudly by GATEWAY_ALLOW_UNIMPLEMENTED.
#include <gtest/gtest.h>

#include "harness.h"

namespace {

using namespace e2e;

// The endpoint's extra_config is on line 4, so messages carry a predictable position.
std::string config_with(const std::string& service_extra, const std::string& endpoint_extra) {
  return "{\"version\": 3, \"host\": [\"127.0.0.1:19\"],\n \"extra_config\": " + service_extra +
         ",\n \"endpoints\": [{\"endpoint\": \"/open\", \"backend\": [{\"url_pattern\": \"/\"}]},\n"
         "   {\"endpoint\": \"/private\", \"extra_config\": " +
         endpoint_extra + ", \"backend\": [{\"url_pattern\": \"/\"}]}]}\n";
}

const std::string kJwt = R"({"auth/validator": {"alg": "RS256", "jwk_url": "http://127.0.0.1:1/jwk"}})";

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(Namespaces, CheckRefusesAnUnimplementedProtectiveNamespace) {
  std::string path = write_temp(config_with("{}", kJwt));
  Process p({GATEWAY_BIN, "check", "-c", path});
  EXPECT_EQ(p.wait(10s), 1);
  std::string out = p.output();
  EXPECT_TRUE(has(out, "'" + path + "': line 4, column 64, field 'endpoints[1].extra_config.auth/validator'"))
      << out;
  EXPECT_TRUE(has(out, "namespace 'auth/validator' (JWT validation) is not implemented")) << out;
  EXPECT_TRUE(has(out, "GATEWAY_ALLOW_UNIMPLEMENTED=true")) << out;
  EXPECT_FALSE(has(out, "Syntax OK!")) << out;
}

TEST(Namespaces, RunRefusesItAndServesNothing) {
  int port = free_port();
  std::string path = write_temp(config_with(R"({"qos/ratelimit/service": {"max_rate": 10}})", "{}"));
  Process p({GATEWAY_BIN, "run", "-c", path, "-p", std::to_string(port)});
  int rc = p.wait(10s);
  EXPECT_NE(rc, 0);
  EXPECT_NE(rc, -1) << "still running";
  EXPECT_TRUE(has(p.output(), "field 'extra_config.qos/ratelimit/service'")) << p.output();
  EXPECT_FALSE(port_open(port));
}

TEST(Namespaces, ServiceTlsIsRefused) {
  std::string path = write_temp(R"({"version": 3, "tls": {"public_key": "c.pem", "private_key": "k.pem"}})");
  Process p({GATEWAY_BIN, "check", "-c", path});
  EXPECT_EQ(p.wait(10s), 1);
  EXPECT_TRUE(has(p.output(), "field 'tls'")) << p.output();
}

TEST(Namespaces, CheckWarnsAboutTheRestAndTypos) {
  std::string path = write_temp(config_with(R"({"telemetry/influx": {"address": "http://x:8086"}})",
                                            R"({"qos/ratelimit/ruoter": {"max_rate": 1}})"));
  Process p({GATEWAY_BIN, "check", "-c", path});
  EXPECT_EQ(p.wait(10s), 0);
  std::string out = p.output();
  EXPECT_TRUE(
      has(out, "WARNING '" + path +
                   "': line 2, column 39, field 'extra_config.telemetry/influx': "
                   "namespace 'telemetry/influx' (InfluxDB metrics) is not implemented by this gateway; "
                   "ignored"))
      << out;
  EXPECT_TRUE(has(out, "unknown namespace 'qos/ratelimit/ruoter' (did you mean 'qos/ratelimit/router'?)"))
      << out;
  EXPECT_TRUE(has(out, "Syntax OK!")) << out;
}

TEST(Namespaces, RunLogsTheWarningAtStartUp) {
  int port = free_port();
  std::string path = write_temp(config_with(R"({"documentation/openapi": {}})", "{}"));
  Process p({GATEWAY_BIN, "run", "-c", path, "-p", std::to_string(port)}, {{"GATEWAY_WORKERS", "1"}});
  ASSERT_TRUE(wait_port(port)) << p.output();
  EXPECT_EQ(p.signal_and_wait(SIGTERM, 10s), 0);
  EXPECT_TRUE(has(p.output(), "namespace 'documentation/openapi' (OpenAPI documentation) is not implemented"))
      << p.output();
}

TEST(Namespaces, EnvironmentSwitchLetsARefusalThroughLoudly) {
  std::string path = write_temp(config_with("{}", kJwt));
  const std::map<std::string, std::string> env = {{"GATEWAY_ALLOW_UNIMPLEMENTED", "true"},
                                                  {"GATEWAY_WORKERS", "1"}};
  Process check({GATEWAY_BIN, "check", "-c", path}, env);
  EXPECT_EQ(check.wait(10s), 0);
  EXPECT_TRUE(
      has(check.output(), "WARNING NOT ENFORCED: '" + path +
                              "': line 4, column 64, field 'endpoints[1].extra_config.auth/validator'"))
      << check.output();

  int port = free_port();
  Process run({GATEWAY_BIN, "run", "-c", path, "-p", std::to_string(port)}, env);
  ASSERT_TRUE(wait_port(port)) << run.output();
  EXPECT_EQ(run.signal_and_wait(SIGTERM, 10s), 0);
  EXPECT_TRUE(has(run.output(), "WARNING NOT ENFORCED: ")) << run.output();
  EXPECT_TRUE(has(run.output(), "GATEWAY_ALLOW_UNIMPLEMENTED=true lets the gateway serve WITHOUT it"))
      << run.output();
}

}  // namespace

// security/cors end to end: the engine stage answers preflights before routing and adds its fields
// to every response (endpoint, no-op relay, 404), as KrakenD's handler wrapper does.
#include <gtest/gtest.h>

#include "harness.h"

namespace {

using namespace e2e;

const char* kConfig = R"({
  "version": 3,
  "timeout": "2s",
  "host": ["http://BACKEND"],
  "extra_config": {
    "security/cors": {
      "allow_origins": ["http://foo.example", "https://*.example.org"],
      "allow_methods": ["GET", "POST"],
      "allow_headers": ["Origin", "Authorization", "Content-Type"],
      "expose_headers": ["Content-Length"],
      "allow_credentials": true,
      "max_age": "12h"
    }
  },
  "endpoints": [
    {"endpoint": "/data", "backend": [{"url_pattern": "/json"}]},
    {"endpoint": "/relay", "output_encoding": "no-op", "backend": [{"url_pattern": "/json"}]}
  ]
})";

class Cors : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    backend_port_ = free_port();
    backend_ = new Process({PYTHON3, BACKEND_PY, std::to_string(backend_port_)});
    ASSERT_TRUE(wait_port(backend_port_)) << backend_->output();
    std::string config = kConfig;
    config.replace(config.find("BACKEND"), 7, "127.0.0.1:" + std::to_string(backend_port_));
    gateway_port_ = free_port();
    path_ = new std::string(write_temp(config));
    gateway_ = new Process({GATEWAY_BIN, "run", "-c", *path_, "-p", std::to_string(gateway_port_)});
    ASSERT_TRUE(wait_port(gateway_port_)) << gateway_->output();
  }
  static void TearDownTestSuite() {
    delete gateway_;
    delete backend_;
    std::remove(path_->c_str());
    delete path_;
  }
  static Process* backend_;
  static Process* gateway_;
  static std::string* path_;
  static int backend_port_, gateway_port_;
};
Process* Cors::backend_ = nullptr;
Process* Cors::gateway_ = nullptr;
std::string* Cors::path_ = nullptr;
int Cors::backend_port_ = 0;
int Cors::gateway_port_ = 0;

TEST_F(Cors, PreflightIsAnsweredBeforeAnyEndpoint) {
  for (const std::string target : {"/data", "/no-such-endpoint"}) {
    auto r = request(gateway_port_, "OPTIONS", target,
                     {{"Origin", "http://foo.example"},
                      {"Access-Control-Request-Method", "POST"},
                      {"Access-Control-Request-Headers", "content-type"}});
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.status, 204) << target;
    EXPECT_EQ(r.header("access-control-allow-origin"), "http://foo.example");
    EXPECT_EQ(r.header("access-control-allow-methods"), "POST");
    EXPECT_EQ(r.header("access-control-allow-headers"), "content-type");
    EXPECT_EQ(r.header("access-control-allow-credentials"), "true");
    EXPECT_EQ(r.header("access-control-max-age"), "43200");
    EXPECT_EQ(r.header("vary"), "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
    EXPECT_FALSE(r.has("x-krakend"));  // no endpoint ran
    EXPECT_FALSE(r.has("content-type"));
    EXPECT_TRUE(r.body.empty());
  }
}

TEST_F(Cors, DeniedPreflightGetsNoPermission) {
  auto r = request(gateway_port_, "OPTIONS", "/data",
                   {{"Origin", "http://evil.example"}, {"Access-Control-Request-Method", "GET"}});
  EXPECT_EQ(r.status, 204);
  EXPECT_FALSE(r.has("access-control-allow-origin"));
  auto wildcard =
      request(gateway_port_, "OPTIONS", "/data",
              {{"Origin", "https://api.example.org"}, {"Access-Control-Request-Method", "DELETE"}});
  EXPECT_FALSE(wildcard.has("access-control-allow-origin")) << "DELETE is not an allowed method";
}

TEST_F(Cors, ActualRequestsCarryTheFieldsOnEveryKindOfResponse) {
  const std::map<std::string, std::string> origin{{"Origin", "https://api.example.org"}};
  auto data = request(gateway_port_, "GET", "/data", origin);
  EXPECT_EQ(data.status, 200);
  EXPECT_EQ(data.header("access-control-allow-origin"), "https://api.example.org");
  EXPECT_EQ(data.header("access-control-expose-headers"), "Content-Length");
  EXPECT_EQ(data.header("x-krakend-completed"), "true");
  auto relay = request(gateway_port_, "GET", "/relay", origin);
  EXPECT_EQ(relay.status, 200);
  EXPECT_EQ(relay.header("access-control-allow-origin"), "https://api.example.org");
  EXPECT_EQ(relay.headers.count("date"), 1u) << "the backend's Date only, as KrakenD relays it";
  auto missing = request(gateway_port_, "GET", "/nothing-here", origin);
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.header("access-control-allow-origin"), "https://api.example.org");
}

TEST_F(Cors, OtherOriginsAndPlainRequestsGetOnlyVary) {
  auto other = request(gateway_port_, "GET", "/data", {{"Origin", "http://evil.example"}});
  EXPECT_EQ(other.status, 200);
  EXPECT_FALSE(other.has("access-control-allow-origin"));
  EXPECT_EQ(other.header("vary"), "Origin");
  auto plain = request(gateway_port_, "GET", "/data");
  EXPECT_EQ(plain.status, 200);
  EXPECT_FALSE(plain.has("access-control-allow-origin"));
  EXPECT_EQ(plain.header("vary"), "Origin");
}

}  // namespace

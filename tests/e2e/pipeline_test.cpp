// Response pipeline end to end: shaping, static and sequential proxies, error flags, encodings.
#include <gtest/gtest.h>

#include <chrono>

#include "harness.h"

namespace {

using namespace e2e;

const char* kConfig = R"({
  "version": 3,
  "timeout": "2s",
  "host": ["http://BACKEND"],
  "extra_config": {"router": {"return_error_msg": true}},
  "endpoints": [
    {"endpoint": "/shape", "backend": [{"url_pattern": "/json?body=%7B%22a%22%3A%7B%22b%22%3A1%2C%22c%22%3A2%7D%2C%22d%22%3A3%2C%22e%22%3A1.0%7D",
       "allow": ["a.b", "e"], "mapping": {"e": "renamed"}, "group": "g"}]},
    {"endpoint": "/target", "backend": [{"url_pattern": "/json?body=%7B%22data%22%3A%7B%22x%22%3A%22%3Ctag%3E%22%7D%7D", "target": "data"}]},
    {"endpoint": "/static-errored", "extra_config": {"proxy": {"static": {"strategy": "errored", "data": {"fallback": true}}}},
     "backend": [{"url_pattern": "/status/503"}]},
    {"endpoint": "/static-always", "cache_ttl": "60s", "extra_config": {"proxy": {"static": {"strategy": "always", "data": {"extra": 1}}}},
     "backend": [{"url_pattern": "/json"}]},
    {"endpoint": "/seq/{id}", "extra_config": {"proxy": {"sequential": true}}, "backend": [
      {"url_pattern": "/json?body=%7B%22next%22%3A%22abc%22%7D", "group": "first"},
      {"url_pattern": "/echo/{resp0_first.next}/{id}", "allow": ["path"]}]},
    {"endpoint": "/seq-fail", "extra_config": {"proxy": {"sequential": true}}, "backend": [
      {"url_pattern": "/status/500"}, {"url_pattern": "/json"}]},
    {"endpoint": "/error-code", "backend": [{"url_pattern": "/json?status=418&body=teapot&ctype=text/plain",
       "extra_config": {"backend/http": {"return_error_code": true}}}]},
    {"endpoint": "/error-details", "backend": [
       {"url_pattern": "/json?body=%7B%22ok%22%3A1%7D"},
       {"url_pattern": "/json?status=429&body=sad+panda&ctype=text/plain", "extra_config": {"backend/http": {"return_error_details": "backend_b"}}}]},
    {"endpoint": "/error-msg", "backend": [{"url_pattern": "/status/404"}]},
    {"endpoint": "/string", "output_encoding": "string", "backend": [{"url_pattern": "/json?body=plain+text", "encoding": "string"}]},
    {"endpoint": "/collection-out", "output_encoding": "json-collection", "backend": [{"url_pattern": "/array", "is_collection": true}]},
    {"endpoint": "/safejson", "backend": [{"url_pattern": "/array", "encoding": "safejson"}]},
    {"endpoint": "/not-json", "backend": [{"url_pattern": "/json?body=%3Chtml%3E"}]},
    {"endpoint": "/concurrent", "concurrent_calls": 3, "backend": [{"url_pattern": "/json"}]},
    {"endpoint": "/fan-out", "backend": [
      {"url_pattern": "/slow?ms=400", "group": "a", "allow": ["method"]},
      {"url_pattern": "/slow?ms=400", "group": "b", "allow": ["method"]},
      {"url_pattern": "/slow?ms=400", "group": "c", "allow": ["method"]}]},
    {"endpoint": "/huge", "backend": [{"url_pattern": "/stream?mb=80"}]},
    {"endpoint": "/follow-301", "backend": [{"url_pattern": "/redirect?status=301", "allow": ["method", "path", "headers.Referer"]}]},
    {"endpoint": "/follow-307", "method": "POST", "backend": [{"url_pattern": "/redirect?status=307", "allow": ["method", "body"]}]},
    {"endpoint": "/follow-307-resend", "method": "POST", "backend": [{"url_pattern": "/redirect?status=307", "allow": ["method", "body"],
       "extra_config": {"backend/http/client": {"send_body_on_redirect": true}}}]},
    {"endpoint": "/follow-303", "method": "POST", "backend": [{"url_pattern": "/redirect?status=303", "allow": ["method", "body"]}]},
    {"endpoint": "/follow-noop", "output_encoding": "no-op", "backend": [{"url_pattern": "/redirect?status=302&to=/status/201"}]},
    {"endpoint": "/loop", "backend": [{"url_pattern": "/loop"}]},
    {"endpoint": "/gzipped", "backend": [{"url_pattern": "/gzip", "group": "g"}]},
    {"endpoint": "/gzipped-bad", "backend": [{"url_pattern": "/badgzip"}]},
    {"endpoint": "/big-head", "backend": [{"url_pattern": "/bighead"}]},
    {"endpoint": "/big-head-noop", "output_encoding": "no-op", "backend": [{"url_pattern": "/bighead"}]},
    {"endpoint": "/sub-second-cache", "cache_ttl": "500ms", "backend": [{"url_pattern": "/json"}]},
    {"endpoint": "/late-head", "timeout": "300ms", "backend": [{"url_pattern": "/slow?ms=3000"}]},
    {"endpoint": "/late-body", "timeout": "300ms", "backend": [{"url_pattern": "/slowbody?ms=3000"}]},
    {"endpoint": "/late-body-fast", "timeout": "2s", "backend": [{"url_pattern": "/slowbody?ms=10"}]}
  ]
})";

class Pipeline : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    backend_port_ = free_port();
    backend_ = new Process({PYTHON3, BACKEND_PY, std::to_string(backend_port_)});
    ASSERT_TRUE(wait_port(backend_port_)) << backend_->output();
    std::string config = kConfig;
    const std::string host = "127.0.0.1:" + std::to_string(backend_port_);
    config.replace(config.find("BACKEND"), 7, host);
    gateway_port_ = free_port();
    path_ = new std::string(write_temp(config));
    gateway_ = new Process({GATEWAY_BIN, "run", "-c", *path_, "-p", std::to_string(gateway_port_)});
    ASSERT_TRUE(wait_port(gateway_port_)) << gateway_->output();
  }
  static void TearDownTestSuite() {
    delete gateway_;
    delete backend_;
    delete path_;
  }
  Response get(const std::string& target) { return request(gateway_port_, "GET", target); }

  static inline Process* backend_ = nullptr;
  static inline Process* gateway_ = nullptr;
  static inline std::string* path_ = nullptr;
  static inline int backend_port_ = 0, gateway_port_ = 0;
};

TEST_F(Pipeline, AllowMappingGroupKeepNumberLiterals) {
  Response r = get("/shape");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.body, R"({"g":{"a":{"b":1},"renamed":1.0}})");
  EXPECT_EQ(r.header("x-krakend-completed"), "true");
}

TEST_F(Pipeline, TargetAndHtmlEscaping) {
  Response r = get("/target");
  EXPECT_EQ(r.body, R"({"x":"\u003ctag\u003e"})");
}

TEST_F(Pipeline, StaticStrategies) {
  Response e = get("/static-errored");
  EXPECT_EQ(e.status, 200);
  EXPECT_EQ(e.body, R"({"fallback":true})");
  EXPECT_EQ(e.header("x-krakend-completed"), "false");
  Response a = get("/static-always");
  EXPECT_EQ(a.body, R"({"extra":1,"ok":true})");
  EXPECT_EQ(a.header("x-krakend-completed"), "true");
  EXPECT_EQ(a.header("cache-control"), "public, max-age=60");
}

TEST_F(Pipeline, SequentialUsesPreviousResponses) {
  Response r = get("/seq/7");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.body, R"({"first":{"next":"abc"},"path":"/echo/abc/7"})");
  Response f = get("/seq-fail");
  EXPECT_EQ(f.status, 500);
}

TEST_F(Pipeline, BackendsAreCalledConcurrently) {
  // Three 400 ms backends: all three answers, in about the time of one.
  const auto start = std::chrono::steady_clock::now();
  Response r = get("/fan-out");
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"a":{"method":"GET"},"b":{"method":"GET"},"c":{"method":"GET"}})");
  EXPECT_EQ(r.header("x-krakend-completed"), "true");
  EXPECT_LT(took, std::chrono::milliseconds(1000));
}

TEST_F(Pipeline, BackendDeadlineCutsSlowHeadsAndSlowBodies) {
  // The endpoint timeout bounds the whole backend exchange: waiting for the head and reading the body.
  for (const char* target : {"/late-head", "/late-body"}) {
    const auto start = std::chrono::steady_clock::now();
    Response r = get(target);
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(r.status, 500) << target;
    EXPECT_NE(r.body.find("context deadline exceeded"), std::string::npos) << target << ": " << r.body;
    EXPECT_LT(took, std::chrono::milliseconds(1500)) << target;
  }
  // A body that pauses within the deadline is read whole, on a connection the pool can reuse.
  for (int i = 0; i < 3; ++i) {
    Response r = get("/late-body-fast");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body.size(), 75u) << r.body;
  }
}

TEST_F(Pipeline, ABackendHeaderOver64KiBFailsThatCallOnly) {
  // Beast's fields cannot hold it and throw; that used to escape the worker and abort the gateway.
  EXPECT_EQ(get("/big-head").status, 500);
  EXPECT_EQ(get("/big-head-noop").status, 500);
  EXPECT_EQ(get("/sub-second-cache").status, 200) << "the gateway keeps serving";
  // A client header line that long gets 431 instead of a dropped connection.
  const std::string big = raw_exchange(gateway_port_, "GET /sub-second-cache HTTP/1.1\r\nHost: x\r\nX-Big: " +
                                                          std::string(66000, 'a') + "\r\n\r\n");
  EXPECT_EQ(big.rfind("HTTP/1.1 431 ", 0), 0u) << big.substr(0, 200);
}

TEST_F(Pipeline, GzipBackendBodiesAreDecompressedBeforeDecoding) {
  Response r = get("/gzipped");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"g":{"zipped":true}})");
  EXPECT_FALSE(r.has("content-encoding"));
  Response bad = get("/gzipped-bad");
  EXPECT_EQ(bad.status, 500);
  EXPECT_EQ(bad.body, "gzip: invalid header");
}

TEST_F(Pipeline, SubSecondCacheTtlStillSendsCacheControl) {
  Response r = get("/sub-second-cache");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("cache-control"), "public, max-age=0");  // Lura: enabled when != 0, whole seconds
}

TEST_F(Pipeline, ErrorFlags) {
  Response code = get("/error-code");
  EXPECT_EQ(code.status, 418);
  EXPECT_EQ(code.body, "teapot");
  EXPECT_EQ(code.header("content-type"), "text/plain");

  Response details = get("/error-details");
  EXPECT_EQ(details.status, 200);
  EXPECT_EQ(
      details.body,
      R"({"error_backend_b":{"http_status_code":429,"http_body":"sad panda","http_body_encoding":"text/plain"},"ok":1})");
  EXPECT_EQ(details.header("x-krakend-completed"), "false");

  Response msg = get("/error-msg");
  EXPECT_EQ(msg.status, 500);
  EXPECT_EQ(msg.body.rfind("invalid status code 404 [GET /status/404]: http://127.0.0.1:", 0), 0u)
      << msg.body;
  EXPECT_EQ(msg.header("content-type"), "text/plain; charset=utf-8");
}

TEST_F(Pipeline, Encodings) {
  EXPECT_EQ(get("/string").body, "plain text");
  EXPECT_EQ(get("/string").header("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(get("/collection-out").body, "[1,2,3]");
  EXPECT_EQ(get("/safejson").body, R"({"collection":[1,2,3]})");
  Response bad = get("/not-json");
  EXPECT_EQ(bad.status, 500);
}

TEST_F(Pipeline, ConcurrentCallsReturnOneResult) {
  Response r = get("/concurrent");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"ok":true})");
}

TEST_F(Pipeline, HugeJsonBodyIsRefusedNotBuffered) {
  Response r = get("/huge");
  EXPECT_EQ(r.status, 500);
  EXPECT_LT(rss_kib(gateway_->pid()), 200 * 1024);
  EXPECT_EQ(get("/target").status, 200);
}

TEST_F(Pipeline, BackendRedirectsAreFollowedLikeGo) {
  Response r = get("/follow-301");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_NE(r.body.find(R"("method":"GET")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("path":"/echo/redirected")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("Referer":["http://127.0.0.1:)"), std::string::npos) << r.body;
  // 307/308 repeat the request; a body only with send_body_on_redirect (Go cannot rewind it otherwise
  // and returns the 307, which is not a success status).
  Response keep =
      request(gateway_port_, "POST", "/follow-307-resend", {{"Content-Type", "text/plain"}}, "payload");
  EXPECT_EQ(keep.body, R"({"body":"payload","method":"POST"})");
  Response refused =
      request(gateway_port_, "POST", "/follow-307", {{"Content-Type", "text/plain"}}, "payload");
  EXPECT_EQ(refused.status, 500);
  EXPECT_NE(refused.body.find("invalid status code 307"), std::string::npos) << refused.body;
  Response bodiless = request(gateway_port_, "POST", "/follow-307", {}, "");
  EXPECT_EQ(bodiless.body, R"({"body":"","method":"POST"})");
  Response to_get =
      request(gateway_port_, "POST", "/follow-303", {{"Content-Type", "text/plain"}}, "payload");
  EXPECT_EQ(to_get.body, R"({"body":"","method":"GET"})");
  Response noop = get("/follow-noop");
  EXPECT_EQ(noop.status, 201);
  Response loop = get("/loop");
  EXPECT_EQ(loop.status, 500);
  EXPECT_NE(loop.body.find("stopped after 10 redirects"), std::string::npos) << loop.body;
}

}  // namespace

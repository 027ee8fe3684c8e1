// CLI contract and process lifecycle: check, bad configs on run, graceful drain on SIGTERM.
#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "harness.h"

namespace {

using namespace e2e;

std::string config_with_backend(int port, const std::string& extra = "") {
  return R"({"version": 3, "timeout": "5s", )" + extra + R"("endpoints": [
    {"endpoint": "/slow", "backend": [{"host": ["127.0.0.1:)" +
         std::to_string(port) + R"("], "url_pattern": "/slow?ms=700"}]},
    {"endpoint": "/fast", "output_encoding": "no-op", "backend": [{"host": ["127.0.0.1:)" +
         std::to_string(port) + R"("], "url_pattern": "/json"}]}
  ]})";
}

TEST(Cli, CheckAcceptsAGoodConfig) {
  std::string path = write_temp(config_with_backend(1234));
  Process p({GATEWAY_BIN, "check", "-c", path});
  EXPECT_EQ(p.wait(10s), 0);
  EXPECT_NE(p.output().find("Syntax OK!"), std::string::npos) << p.output();
}

TEST(Cli, CheckRejectsABrokenConfigNamingLineAndField) {
  std::string path = write_temp(
      "{\n  \"version\": 3,\n  \"endpoints\": [\n    {\"endpoint\": \"/x\", \"timeout\": \"forever\",\n     "
      "\"backend\": [{\"host\": [\"h:80\"], \"url_pattern\": \"/\"}]}\n  ]\n}\n");
  Process p({GATEWAY_BIN, "check", "-c", path});
  EXPECT_EQ(p.wait(10s), 1);
  std::string out = p.output();
  EXPECT_NE(out.find(path), std::string::npos) << out;
  EXPECT_NE(out.find("line 4"), std::string::npos) << out;
  EXPECT_NE(out.find("endpoints[0].timeout"), std::string::npos) << out;
  EXPECT_EQ(out.find("Syntax OK!"), std::string::npos) << out;
}

TEST(Cli, CheckRejectsConflictingRoutes) {
  std::string path = write_temp(R"({"version":3,"host":["h:80"],"endpoints":[
    {"endpoint":"/u/{a}","backend":[{"url_pattern":"/"}]},{"endpoint":"/u/{b}/x","backend":[{"url_pattern":"/"}]}]})");
  Process p({GATEWAY_BIN, "check", "-c", path});
  EXPECT_EQ(p.wait(10s), 1);
  EXPECT_NE(p.output().find("conflicts with existing wildcard"), std::string::npos) << p.output();
}

TEST(Cli, RunRefusesABadConfigAndServesNothing) {
  int port = free_port();
  std::string path = write_temp(R"({"version": 2})");
  Process p({GATEWAY_BIN, "run", "-c", path, "-p", std::to_string(port)});
  EXPECT_EQ(p.wait(10s), 255);
  EXPECT_NE(p.output().find("unsupported version: 2 (want: 3)"), std::string::npos) << p.output();
  EXPECT_FALSE(port_open(port));
}

TEST(Cli, MissingFileAndVersion) {
  Process missing({GATEWAY_BIN, "check", "-c", "/nonexistent/krakend.json"});
  EXPECT_EQ(missing.wait(10s), 1);
  Process version({GATEWAY_BIN, "version"});
  EXPECT_EQ(version.wait(10s), 0);
  EXPECT_NE(version.output().find(GATEWAY_KRAKEND_VERSION), std::string::npos);
}

TEST(Lifecycle, SigtermDrainsInFlightRequestsWithoutFailures) {
  int backend_port = free_port();
  Process backend({PYTHON3, BACKEND_PY, std::to_string(backend_port)});
  ASSERT_TRUE(wait_port(backend_port));
  int port = free_port();
  std::string path = write_temp(config_with_backend(backend_port, R"("max_shutdown_wait_time": "10s", )"));
  Process gw({GATEWAY_BIN, "run", "-c", path, "-p", std::to_string(port)}, {{"GATEWAY_WORKERS", "2"}});
  ASSERT_TRUE(wait_port(port)) << gw.output();

  // Load: 16 clients hammering a fast route on keep-alive-less requests plus 16 slow requests in flight.
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::future<void>> clients;
  for (int i = 0; i < 16; ++i) {
    clients.push_back(std::async(std::launch::async, [&] {
      Response r = request(port, "GET", "/slow");
      (r.status == 200 ? ok : failed)++;
    }));
  }
  std::this_thread::sleep_for(300ms);  // the slow requests are now in flight
  ASSERT_EQ(::kill(gw.pid(), SIGTERM), 0);
  for (auto& c : clients) c.wait();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(ok.load(), 16);
  EXPECT_EQ(gw.wait(10s), 0) << gw.output();
  EXPECT_FALSE(port_open(port));
  (void)stop;
}

TEST(Lifecycle, ShutdownWaitBoundsDrain) {
  int backend_port = free_port();
  Process backend({PYTHON3, BACKEND_PY, std::to_string(backend_port)});
  ASSERT_TRUE(wait_port(backend_port));
  int port = free_port();
  std::string path = write_temp(config_with_backend(backend_port, R"("max_shutdown_wait_time": "100ms", )"));
  Process gw({GATEWAY_BIN, "run", "-c", path, "-p", std::to_string(port)});
  ASSERT_TRUE(wait_port(port));
  auto slow = std::async(std::launch::async, [&] { return request(port, "GET", "/slow"); });
  std::this_thread::sleep_for(200ms);
  auto start = std::chrono::steady_clock::now();
  ::kill(gw.pid(), SIGTERM);
  int rc = gw.wait(10s);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 600ms);
  EXPECT_EQ(rc, 1) << "in-flight work was cut: the exit code says so";
  slow.wait();
}

}  // namespace

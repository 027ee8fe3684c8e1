// Hostile clients and failing backends against the real binary (issue 6). Each test fails
// without the defence it names.
#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>

#include "harness.h"

namespace {

using namespace e2e;
using Clock = std::chrono::steady_clock;

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size()))
    text.replace(pos, from.size(), to);
  return text;
}

int count(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos; pos = haystack.find(needle, pos + 1)) ++n;
  return n;
}

bool sanitized() { return std::getenv("GW_E2E_SANITIZED") != nullptr; }

const char* kConfig = R"({
  "version": 3,
  "timeout": "3s",
  "host": ["http://BACKEND"],
  EXTRA
  "extra_config": {"router": {"return_error_msg": true}},
  "endpoints": [
    {"endpoint": "/all", "input_headers": ["*"], "backend": [{"url_pattern": "/echo/all"}]},
    {"endpoint": "/echo/{p}", "output_encoding": "no-op", "backend": [{"url_pattern": "/echo/{p}"}]},
    {"endpoint": "/json/{p}", "backend": [{"url_pattern": "/echo/{p}"}]},
    {"endpoint": "/pipe/slow", "output_encoding": "no-op", "backend": [{"url_pattern": "/slow?ms=300"}]},
    {"endpoint": "/post", "method": "POST", "output_encoding": "no-op", "backend": [{"url_pattern": "/echo/post"}]},
    {"endpoint": "/ok", "backend": [{"url_pattern": "/json"}]},
    {"endpoint": "/hopbyhop", "output_encoding": "no-op", "backend": [{"url_pattern": "/hopbyhop"}]},
    {"endpoint": "/f/{mode}", "timeout": "500ms", "backend": [{"url_pattern": "/{mode}"}]},
    {"endpoint": "/n/{mode}", "timeout": "500ms", "output_encoding": "no-op", "backend": [{"url_pattern": "/{mode}"}]},
    {"endpoint": "/refused/json", "backend": [{"host": ["http://127.0.0.1:DEADPORT"], "url_pattern": "/"}]},
    {"endpoint": "/refused/noop", "output_encoding": "no-op", "backend": [{"host": ["http://127.0.0.1:DEADPORT"], "url_pattern": "/"}]},
    {"endpoint": "/huge", "timeout": "20s", "backend": [{"url_pattern": "/stream?mb=80"}]},
    {"endpoint": "/huge-chunked", "timeout": "20s", "backend": [{"url_pattern": "/stream?mb=80&chunked=1"}]}
  ]
})";

// One backend.py shared by the suite; gateways are started per need with their own settings.
class Hardening : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    backend_port_ = free_port();
    backend_ = new Process({PYTHON3, BACKEND_PY, std::to_string(backend_port_)});
    ASSERT_TRUE(wait_port(backend_port_)) << backend_->output();
    main_ = new Started(start("", {}));
  }
  static void TearDownTestSuite() {
    delete main_;
    delete backend_;
  }

  struct Started {
    std::unique_ptr<Process> process;
    int port = 0;
  };
  // A gateway with one worker (so its single upstream pool is the one under test).
  static Started start(const std::string& extra_top_level, std::map<std::string, std::string> env) {
    std::string config = replace_all(kConfig, "BACKEND", "127.0.0.1:" + std::to_string(backend_port_));
    config = replace_all(config, "DEADPORT", std::to_string(free_port()));
    config = replace_all(config, "EXTRA", extra_top_level);
    Started s;
    s.port = free_port();
    env.emplace("GATEWAY_WORKERS", "1");
    s.process = std::make_unique<Process>(
        std::vector<std::string>{GATEWAY_BIN, "run", "-c", write_temp(config), "-p", std::to_string(s.port)},
        env);
    EXPECT_TRUE(wait_port(s.port)) << s.process->output();
    return s;
  }
  static int port() { return main_->port; }
  static int pid() { return main_->process->pid(); }
  Response get(const std::string& target, const std::map<std::string, std::string>& headers = {}) {
    return request(port(), "GET", target, headers);
  }

  static inline Process* backend_ = nullptr;
  static inline Started* main_ = nullptr;
  static inline int backend_port_ = 0;
};

// ---- 1. smuggling and framing ----

TEST_F(Hardening, AmbiguousFramingIsRefusedAndTheConnectionClosed) {
  const std::string smuggled = "GET /echo/smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"CL+TE",
       "POST /post HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
      {"TE+CL",
       "POST /post HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"},
      {"dup CL", "POST /post HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello"},
      {"CL list", "POST /post HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nhello"},
      {"CL sign", "POST /post HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello"},
      {"bad chunk",
       "POST /post HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n"},
      {"obs-fold", "GET /echo/a HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n Transfer-Encoding: chunked\r\n\r\n"},
      {"bare CR", "GET /echo/a HTTP/1.1\r\nHost: x\r\nX-A: 1\rX-B: 2\r\n\r\n"},
      {"NUL", std::string("GET /echo/a HTTP/1.1\r\nHost: x\r\nX-A: 1\0\r\n\r\n", 42)},
      {"two Hosts", "GET /echo/a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n"},
      {"no Host", "GET /echo/a HTTP/1.1\r\n\r\n"},
      {"TE on 1.0", "POST /post HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
  };
  for (const auto& [name, bytes] : cases) {
    auto start = Clock::now();
    std::string r = raw_exchange(port(), bytes + smuggled);
    EXPECT_EQ(r.rfind("HTTP/1.1 400", 0), 0u) << name << ": " << r.substr(0, 80);
    EXPECT_EQ(count(r, "HTTP/1.1 "), 1) << name << ": the smuggled request must not be answered";
    EXPECT_NE(r.find("Connection: close"), std::string::npos) << name;
    EXPECT_LT(Clock::now() - start, 2s) << name << ": closed at once, not by a timeout";
  }
  std::string te =
      raw_exchange(port(), "POST /post HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n" + smuggled);
  EXPECT_EQ(te.rfind("HTTP/1.1 501", 0), 0u) << te.substr(0, 80);
  EXPECT_EQ(count(te, "HTTP/1.1 "), 1);
  EXPECT_EQ(get("/ok").status, 200);
}

TEST_F(Hardening, AChunkedTrailerOver64KiBIsRefusedNotAProcessAbort) {
  // Beast's fields throw for a 64 KiB field; thrown inside its composed body read it used to escape
  // the worker and abort the gateway. Now: 431 for this client, everyone else still served.
  const std::string r = raw_exchange(port(),
                                     "POST /post HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                     "3\r\nabc\r\n0\r\nX-Trailer: " +
                                         std::string(70000, 'a') + "\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 431", 0), 0u) << r.substr(0, 80);
  EXPECT_EQ(get("/ok").status, 200);
}

TEST_F(Hardening, HopByHopRequestHeadersAreNeverForwarded) {
  Response r = get("/all", {{"Connection", "keep-alive, X-Drop"},
                            {"X-Drop", "1"},
                            {"TE", "trailers"},
                            {"Upgrade", "h2c"},
                            {"Proxy-Authorization", "Basic eA=="},
                            {"Proxy", "http://evil"},
                            {"Keep-Alive", "timeout=5"},
                            {"X-Keep", "1"}});
  ASSERT_EQ(r.status, 200) << r.error << r.body;
  EXPECT_NE(r.body.find(R"("X-Keep":["1"])"), std::string::npos) << r.body;
  for (const char* name :
       {"X-Drop", "Te", "Upgrade", "Proxy-Authorization", "Proxy", "Keep-Alive", "Connection"})
    EXPECT_EQ(r.body.find("\"" + std::string(name) + "\":"), std::string::npos)
        << name << " reached the backend: " << r.body;
}

TEST_F(Hardening, HopByHopResponseHeadersAreNeverRelayed) {
  Response r = get("/hopbyhop");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.header("x-visible"), "yes");
  EXPECT_FALSE(r.has("x-hop")) << "named in the backend's Connection header";
  EXPECT_FALSE(r.has("keep-alive"));
  EXPECT_FALSE(r.has("proxy-authenticate"));
}

TEST_F(Hardening, BadlyFramedBackendResponsesAreNeverRelayedAsValid) {
  for (const char* mode : {"clte", "badchunk", "chunkext", "resetmid", "switch", "garbage", "short"}) {
    Response j = get(std::string("/f/") + mode);
    EXPECT_EQ(j.status, 500) << "json " << mode << ": " << j.error;
    Response n = get(std::string("/n/") + mode);
    // No-op: 500 while nothing was sent; once the head is out, a cut connection (client sees an error).
    EXPECT_TRUE(n.status == 500 || !n.error.empty())
        << "no-op " << mode << ": " << n.status << " " << n.body.size();
  }
  // A 1xx before the real response is skipped, not relayed as final.
  for (const char* kind : {"f", "n"}) {
    Response c = get(std::string("/") + kind + "/continue");
    EXPECT_EQ(c.status, 200) << kind;
    EXPECT_NE(c.body.find("continued"), std::string::npos) << kind << ": " << c.body;
  }
}

TEST_F(Hardening, UnsolicitedBackendBytesNeverAnswerTheNextRequest) {
  for (const char* mode : {"desync", "long"}) {
    Response first = get(std::string("/f/") + mode);
    EXPECT_EQ(first.status, 200) << mode;
    std::this_thread::sleep_for(250ms);  // the late "response" has arrived on the idle connection
    for (int i = 0; i < 3; ++i) {
      Response next = get("/json/next");
      EXPECT_EQ(next.status, 200) << mode;
      EXPECT_EQ(next.body.find("evil"), std::string::npos) << mode << ": " << next.body;
    }
  }
}

// ---- 2. paths ----

TEST_F(Hardening, OverLongTargetsAre414) {
  std::string r =
      raw_exchange(port(), "GET /json/" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 414", 0), 0u) << r.substr(0, 80);
  EXPECT_EQ(get("/nope/" + std::string(8000, 'a')).status, 404) << "8000 bytes are within the 8 KiB limit";
  EXPECT_EQ(get("/ok?" + std::string(9000, 'q')).status, 414) << "the query counts";
}

TEST_F(Hardening, EncodedParamsAndTraversalNeverReachTheBackend) {
  Response enc = get("/json/a%2525b");
  EXPECT_EQ(enc.status, 400);
  EXPECT_EQ(enc.body, "error: encoded url params");
  for (const char* t :
       {"/echo/..", "/echo/%2e%2e", "/echo/%2E%2E", "/echo/.%2e", "/echo/%2e.", "/echo/%2e",
        "/echo/%252e%252e", "/echo/..;", "/echo/%2e%2e;x", "/echo/%2e%2e%2fadmin", "/echo/..%2fadmin",
        "/echo/a%2f..%2f..%2fadmin", "/echo/%2e%2e%5cadmin", "/json/%2e%2e"}) {
    Response r = get(t);
    EXPECT_NE(r.status, 200) << t << " -> " << r.body;
    EXPECT_EQ(r.body.find("\"path\""), std::string::npos) << t << " reached the backend: " << r.body;
  }
  Response fine = get("/echo/a..b");
  EXPECT_EQ(fine.status, 200);
  EXPECT_NE(fine.body.find(R"("path": "/echo/a..b")"), std::string::npos) << fine.body;
}

// ---- 3. slow and greedy clients ----

// Opens a raw connection, sends `head`, then one byte of `trickle` every `every`; returns how long
// the gateway took to close it (or `give_up`).
std::chrono::milliseconds trickle(int port, const std::string& head, char byte,
                                  std::chrono::milliseconds every, std::chrono::milliseconds give_up) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return 0ms;
  auto start = Clock::now();
  ::send(fd, head.data(), head.size(), MSG_NOSIGNAL);
  while (Clock::now() - start < give_up) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(every.count())) > 0) {
      char buf[512];
      if (::recv(fd, buf, sizeof buf, 0) <= 0) break;  // closed (or answered, then closed)
      continue;
    }
    if (::send(fd, &byte, 1, MSG_NOSIGNAL) < 0) break;
  }
  ::close(fd);
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

TEST_F(Hardening, SlowHeadersAndBodiesAreTimedOutWithoutHurtingOthers) {
  auto g = start(R"("read_header_timeout": "1s", "read_timeout": "1s",)", {});
  std::vector<std::chrono::milliseconds> closed(4);
  std::vector<std::thread> slow;
  for (int i = 0; i < 3; ++i)
    slow.emplace_back(
        [&, i] { closed[i] = trickle(g.port, "GET /ok HTTP/1.1\r\nHost: x\r\n", 'a', 100ms, 6s); });
  slow.emplace_back([&] {
    closed[3] =
        trickle(g.port, "POST /post HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n", 'a', 100ms, 6s);
  });
  std::this_thread::sleep_for(100ms);
  for (int i = 0; i < 20; ++i) {  // same worker thread as the slow ones
    auto t0 = Clock::now();
    Response r = request(g.port, "GET", "/ok");
    EXPECT_EQ(r.status, 200) << r.error;
    EXPECT_LT(Clock::now() - t0, sanitized() ? 2000ms : 500ms);
    std::this_thread::sleep_for(50ms);
  }
  for (auto& t : slow) t.join();
  for (int i = 0; i < 4; ++i) {
    EXPECT_GE(closed[i], 900ms) << i;
    EXPECT_LT(closed[i], 2500ms) << i << ": a trickling client must be cut at the timeout";
  }
}

// A keep-alive connection that can send requests one after another.
struct Conn {
  asio::io_context io;
  beast::tcp_stream stream{io};
  beast::flat_buffer buffer;
  explicit Conn(int port) {
    stream.expires_after(5s);
    stream.connect(
        asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  }
  int get(const std::string& target) {
    beast::error_code ec;
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, "x");
    stream.expires_after(5s);
    http::write(stream, req, ec);
    if (ec) return -1;
    http::response<http::string_body> res;
    http::read(stream, buffer, res, ec);
    return ec ? -1 : res.result_int();
  }
};

TEST_F(Hardening, MaximumConnectionsIsConfigurable) {
  auto g = start("", {{"GATEWAY_MAX_CONNECTIONS", "3"}});
  std::vector<std::unique_ptr<Conn>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<Conn>(g.port));
    EXPECT_EQ(held.back()->get("/__health"), 200) << i;
  }
  Response over = request(g.port, "GET", "/__health", {}, "", 3s);
  EXPECT_NE(over.status, 200) << "a fourth connection must be refused";
  EXPECT_TRUE(over.status == 503 || !over.error.empty()) << over.status;
  held.pop_back();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(request(g.port, "GET", "/__health").status, 200) << "a freed slot is usable again";
  EXPECT_EQ(held.front()->get("/__health"), 200) << "held connections keep working";
}

TEST_F(Hardening, PipelinedRequestsAreAnsweredInOrder) {
  Conn c(port());
  const std::string three =
      "GET /pipe/slow HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /echo/two HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /echo/three HTTP/1.1\r\nHost: x\r\n\r\n";
  asio::write(c.stream, asio::buffer(three));
  for (const char* expected : {"\"/slow\"", "\"/echo/two\"", "\"/echo/three\""}) {
    http::response<http::string_body> res;
    beast::error_code ec;
    http::read(c.stream, c.buffer, res, ec);
    ASSERT_FALSE(ec) << expected << ": " << ec.message();
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_NE(res.body().find(expected), std::string::npos) << expected << " got " << res.body();
  }
}

TEST_F(Hardening, EndlessRequestChunkExtensionIsCutAtTheBufferBound) {
  // Without a bound on the connection buffer the gateway would hold all of it until read_timeout.
  auto start_time = Clock::now();
  std::string r = raw_exchange(
      port(),
      "POST /post HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;x=" + std::string(3 << 20, 'a'),
      10s);
  // The 400 may be lost to the reset that closing with unread bytes causes; the time is the point.
  EXPECT_TRUE(r.empty() || r.rfind("HTTP/1.1 400", 0) == 0) << r.substr(0, 80);
  EXPECT_LT(Clock::now() - start_time, 5s);
}

// ---- 4. failing backends: defined statuses, nothing leaks ----

TEST_F(Hardening, FailingBackendsLeakNeitherDescriptorsNorMemory) {
  const std::vector<std::string> failing = {"/f/resetmid",   "/n/resetmid", "/f/clte",    "/n/clte",
                                            "/f/badchunk",   "/n/badchunk", "/f/garbage", "/n/garbage",
                                            "/f/short",      "/n/short",    "/f/switch",  "/refused/json",
                                            "/refused/noop", "/f/chunkext", "/f/long"};
  // Not "/f/desync" here: a request that reuses the connection before the late bytes arrive reads
  // them as its answer. No HTTP/1.1 client can tell those apart; the peek on reuse covers the rest.
  auto round = [&](int n) {
    for (int i = 0; i < n; ++i) {
      const std::string& t = failing[static_cast<std::size_t>(i) % failing.size()];
      Response r = get(t);
      if (t.rfind("/f/", 0) == 0 && t != "/f/long") {
        EXPECT_EQ(r.status, 500) << t;
      }
      if (t.rfind("/refused/", 0) == 0) {
        EXPECT_EQ(r.status, 500) << t;
      }
    }
    EXPECT_EQ(get("/f/hang").status, 500);
    EXPECT_EQ(get("/n/hang").status, 500);
    EXPECT_EQ(get("/huge").status, 500) << "80 MiB is over the 64 MiB JSON body bound";
    EXPECT_EQ(get("/huge-chunked").status, 500) << "the bound holds without a Content-Length too";
  };
  round(64);  // warm-up: allocator arenas, pools, DNS cache
  std::this_thread::sleep_for(300ms);
  const int fds0 = open_fds(pid());
  const long rss0 = rss_kib(pid());
  round(320);
  std::this_thread::sleep_for(700ms);  // the hung backend sees the close; late bytes land
  const int fds1 = open_fds(pid());
  const long rss1 = rss_kib(pid());
  EXPECT_LE(fds1, fds0 + 2) << "fds " << fds0 << " -> " << fds1;
  EXPECT_LT(rss1 - rss0, sanitized() ? 64 * 1024 : 4 * 1024) << "RSS KiB " << rss0 << " -> " << rss1;
  EXPECT_EQ(get("/ok").status, 200);
  std::cout << "[ fds " << fds0 << " -> " << fds1 << ", RSS KiB " << rss0 << " -> " << rss1 << " ]\n";
}

}  // namespace

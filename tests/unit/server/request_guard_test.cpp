// Request framing defences: each case is a request a front-end/back-end pair could disagree on.
#include "server/request_guard.h"

#include <gtest/gtest.h>

#include <memory_resource>
#include <string>

namespace {

using namespace gw::server;
using State = HeadScanner::State;

struct Parsed {
  State state;
  unsigned status;
  std::size_t consumed;
  std::string body;
  bool body_ok = false;
};

// Feeds `bytes` to the same pipeline the sessions use, in pieces of `step` bytes, then the body.
Parsed parse(const std::string& bytes, std::size_t step = 0, Limits limits = {}) {
  std::pmr::monotonic_buffer_resource memory;
  RequestParser parser(std::piecewise_construct, std::make_tuple(), std::make_tuple(FieldAllocator(&memory)));
  configure(parser, limits);
  HeadScanner scanner(limits);
  HeadResult head;
  std::size_t have = step ? 0 : bytes.size();
  while (true) {
    head = parse_request_head(std::string_view(bytes).substr(0, have), scanner, parser, limits);
    if (head.state != State::need_more || have == bytes.size()) break;
    have = std::min(bytes.size(), have + step);
  }
  Parsed out{head.state, head.status, head.consumed, {}, false};
  if (head.state != State::complete) return out;
  std::string_view rest = std::string_view(bytes).substr(head.consumed);
  boost::system::error_code ec;
  while (!parser.is_done() && !rest.empty()) {
    std::size_t n = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
    if (ec == http::error::need_more) ec = {};
    if (ec || n == 0) break;
    rest.remove_prefix(n);
  }
  out.body_ok = !ec && parser.is_done();
  out.body = parser.get().body();
  return out;
}

unsigned status_of(const std::string& bytes) {
  auto p = parse(bytes);
  return p.state == State::reject ? p.status : p.state == State::complete ? 0 : 1;
}

TEST(RequestGuard, AcceptsOrdinaryRequests) {
  auto p = parse("GET /a?b=c HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n");
  EXPECT_EQ(p.state, State::complete);
  EXPECT_TRUE(p.body_ok);
  auto post = parse("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_TRUE(post.body_ok);
  EXPECT_EQ(post.body, "hello");
  auto chunked =
      parse("POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\n\r\n");
  EXPECT_TRUE(chunked.body_ok);
  EXPECT_EQ(chunked.body, "hello");
  EXPECT_EQ(status_of("GET / HTTP/1.0\r\n\r\n"), 0u) << "HTTP/1.0 needs no Host";
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: x\r\nX: caf\xc3\xa9\r\n\r\n"), 0u) << "obs-text is allowed";
}

TEST(RequestGuard, ByteByByteGivesTheSameAnswer) {
  const std::string req = "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok";
  auto p = parse(req, 1);
  EXPECT_EQ(p.state, State::complete);
  EXPECT_EQ(p.body, "ok");
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", 1).status, 400u);
}

TEST(RequestGuard, ContentLengthAndTransferEncodingTogether) {
  EXPECT_EQ(
      status_of("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"),
      400u);
  EXPECT_EQ(
      status_of("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"),
      400u);
}

TEST(RequestGuard, DuplicateOrInvalidContentLength) {
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc"),
            400u);
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc"),
            400u);
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\nabc"), 400u);
  for (const char* bad : {"-1", "+3", "0x3", "3a", "", "99999999999999999999999", "3 3"})
    EXPECT_EQ(status_of(std::string("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ") + bad + "\r\n\r\nabc"),
              400u)
        << bad;
}

TEST(RequestGuard, TransferEncodingOtherThanChunked) {
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"), 501u);
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 501u);
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n"), 501u);
  EXPECT_EQ(
      status_of(
          "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"),
      501u);
  EXPECT_EQ(
      status_of(
          "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"),
      400u);
  EXPECT_EQ(status_of("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400u);
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n"), 400u)
      << "space before colon";
}

TEST(RequestGuard, InvalidChunkSizes) {
  const std::string head = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (const char* bad : {"0x5\r\nhello\r\n0\r\n\r\n", "-5\r\nhello\r\n0\r\n\r\n", " 5\r\nhello\r\n0\r\n\r\n",
                          "fffffffffffffffff\r\nx\r\n", "5\r\nhelloXX0\r\n\r\n", "g\r\n", "5\nhello\n0\n\n",
                          "5 x\r\nhello\r\n0\r\n\r\n"}) {
    auto p = parse(head + bad);
    EXPECT_EQ(p.state, State::complete);
    EXPECT_FALSE(p.body_ok) << bad;
  }
  // Larger than max_body_bytes in a single chunk.
  Limits small;
  small.max_body_bytes = 10;
  EXPECT_FALSE(parse(head + "100\r\n" + std::string(256, 'a') + "\r\n0\r\n\r\n", 0, small).body_ok);
}

TEST(RequestGuard, ObsFoldNulAndBareLineEnds) {
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n"), 400u);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n\tb\r\n\r\n"), 400u);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\n Host: x\r\n\r\n"), 400u) << "whitespace before the first field";
  EXPECT_EQ(status_of(std::string("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n", 37)), 400u);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n"), 400u);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\nX-B: b\r\n\r\n"), 400u);
  EXPECT_EQ(status_of("GET / HTTP/1.1\nHost: x\n\n"), 400u);
  EXPECT_EQ(status_of("GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n"), 400u);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: x\r\nX-A: \x7f\r\n\r\n"), 400u);
}

TEST(RequestGuard, HostRules) {
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\n\r\n"), 400u);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400u);
}

TEST(RequestGuard, LongTargetIs414AndLongHeadIs431) {
  Limits limits;
  const std::string ok(limits.max_target_bytes - 1, 'a');
  EXPECT_EQ(status_of("GET /" + ok + " HTTP/1.1\r\nHost: x\r\n\r\n"), 0u);
  EXPECT_EQ(status_of("GET /" + ok + "b HTTP/1.1\r\nHost: x\r\n\r\n"), 414u);
  // Refused before the line ends: a client cannot make us buffer an endless target.
  auto early = parse("GET /" + std::string(limits.max_target_bytes + 100, 'a'));
  EXPECT_EQ(early.status, 414u);
  limits.max_header_bytes = 1024;
  auto big = parse("GET / HTTP/1.1\r\nHost: x\r\nX: " + std::string(2000, 'a') + "\r\n\r\n", 0, limits);
  EXPECT_EQ(big.status, 431u);
  EXPECT_EQ(parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n\r\n").status, 413u);
}

TEST(RequestGuard, OneFieldOver64KiBIs431NotADroppedConnection) {
  // Beast cannot store a field of 64 KiB (16-bit sizes); many smaller fields up to the limit are fine.
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(66000, 'a') + "\r\n\r\n"), 431u);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(60000, 'a') + "\r\n\r\n"), 0u);
  std::string many = "GET / HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 4; ++i) many += "X-" + std::to_string(i) + ": " + std::string(60000, 'a') + "\r\n";
  EXPECT_EQ(status_of(many + "\r\n"), 0u);
}

TEST(RequestGuard, LeadingEmptyLinesAreSkippedButBounded) {
  auto p = parse("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(p.state, State::complete);
  EXPECT_EQ(p.consumed, 4u + 27u);
  EXPECT_EQ(status_of(std::string(64, '\r') + "\n"), 400u);
  EXPECT_EQ(status_of("\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"), 400u);
}

TEST(RequestGuard, PipelinedRequestsAreConsumedOneAtATime) {
  const std::string two = "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n";
  auto p = parse(two);
  EXPECT_EQ(p.state, State::complete);
  EXPECT_EQ(p.consumed, two.size() / 2);
}

TEST(Limits, EnvironmentOverrides) {
  ::setenv("GATEWAY_MAX_CONNECTIONS", "7", 1);
  ::setenv("GATEWAY_MAX_URI_BYTES", "100", 1);
  Limits l = limits_from_environment({});
  EXPECT_EQ(l.max_connections, 7u);
  EXPECT_EQ(l.max_target_bytes, 100u);
  ::setenv("GATEWAY_MAX_CONNECTIONS", "nope", 1);
  ::unsetenv("GATEWAY_MAX_URI_BYTES");
  Limits d = limits_from_environment({});
  EXPECT_GT(d.max_connections, 7u);
  EXPECT_EQ(d.max_target_bytes, Limits{}.max_target_bytes);
  ::unsetenv("GATEWAY_MAX_CONNECTIONS");
}

}  // namespace

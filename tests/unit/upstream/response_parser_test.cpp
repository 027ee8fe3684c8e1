// The backend response parser: Beast's framing with a flat head and a caller-provided body buffer.
#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <string>

#include "upstream/upstream.h"

namespace gw::upstream {
namespace {

// Feeds `wire` to a fresh parser in pieces of `step` bytes, reading the body through a buffer of
// `room` bytes; returns the body, the head in `head_out` and the last error in `ec`.
struct Parsed {
  std::string body;
  std::string fields;  // "name=value;" in arrival order
  unsigned status = 0;
  error_code ec;
};

Parsed parse(std::string_view wire, std::size_t step, std::size_t room) {
  Exchange ex;
  ResponseParser& p = ex.new_parser();
  p.body_limit(boost::none);
  Parsed out;
  std::string buffered;
  std::size_t fed = 0;
  std::string chunk(room, '\0');
  while (!p.is_done()) {
    if (fed < wire.size()) {
      const std::size_t n = std::min(step, wire.size() - fed);
      buffered.append(wire.substr(fed, n));
      fed += n;
    }
    p.body().data = chunk.data();
    p.body().size = chunk.size();
    error_code ec;
    const std::size_t used = p.put(boost::asio::buffer(buffered), ec);
    buffered.erase(0, used);
    const std::size_t got = chunk.size() - p.body().size;
    out.body.append(chunk.data(), got);
    // Everything fed and no progress: the peer closed (ends a close-delimited body).
    if (fed == wire.size() && used == 0 && got == 0 && (!ec || ec == http::error::need_more)) {
      p.put_eof(ec);
      if (ec) out.ec = ec;
      break;
    }
    if (ec && ec != http::error::need_more && ec != http::error::need_buffer) {
      out.ec = ec;
      break;
    }
  }
  if (p.is_header_done()) {
    out.status = ex.status();
    for (const auto& f : ex.head())
      out.fields += std::string(f.name_string()) + "=" + std::string(f.value()) + ";";
  }
  return out;
}

TEST(ResponseParser, KeepsEveryFieldInArrivalOrderWithItsCase) {
  const auto r = parse(
      "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\nX-Custom: a\r\nSet-Cookie: s=1\r\n"
      "x-custom: b\r\nContent-Length: 2\r\n\r\n{}",
      1000, 64);
  EXPECT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.status, 201u);
  EXPECT_EQ(r.fields, "content-type=application/json;X-Custom=a;Set-Cookie=s=1;x-custom=b;Content-Length=2;");
  EXPECT_EQ(r.body, "{}");
}

TEST(ResponseParser, FindsFieldsByIdOrNameCaseInsensitively) {
  Exchange ex;
  ResponseParser& p = ex.new_parser();
  const std::string wire =
      "HTTP/1.1 302 Found\r\nlocation: /next\r\nX-Trace: one\r\nX-TRACE: two\r\nContent-Length: 0\r\n\r\n";
  error_code ec;
  p.put(boost::asio::buffer(wire), ec);
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_TRUE(p.is_done());
  const ResponseHead& h = ex.head();
  EXPECT_EQ(h[http::field::location], "/next");
  EXPECT_EQ(h["Location"], "/next");
  EXPECT_EQ(h["x-trace"], "one");  // the first of repeated fields
  EXPECT_EQ(h[http::field::content_type], "");
  EXPECT_EQ(h.find(http::field::content_type), h.end());
  EXPECT_EQ(h["absent"], "");
  EXPECT_EQ(h.result_int(), 302u);
}

TEST(ResponseParser, ChunkedBodyArrivesWholeThroughASmallBufferAndByteByByte) {
  const std::string wire =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n";
  for (std::size_t step : {std::size_t{1}, std::size_t{7}, wire.size()}) {
    const auto r = parse(wire, step, 3);
    EXPECT_FALSE(r.ec) << "step " << step << ": " << r.ec.message();
    EXPECT_EQ(r.body, "hello, world") << "step " << step;
  }
}

TEST(ResponseParser, CloseDelimitedBodyEndsAtEof) {
  const auto r = parse("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", 4, 5);
  EXPECT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.body, "until the end");
}

TEST(ResponseParser, AFieldOf64KiBOrMoreIsAHeaderLimitError) {
  Exchange ex;
  ResponseParser& p = ex.new_parser();
  p.header_limit(1 << 20);
  const std::string wire =
      "HTTP/1.1 200 OK\r\nX-Big: " + std::string(70000, 'v') + "\r\nContent-Length: 0\r\n\r\n";
  error_code ec;
  p.put(boost::asio::buffer(wire), ec);
  EXPECT_EQ(ec, http::error::header_limit);
}

TEST(ResponseParser, HeadsLargerThanTheInlineArenaStayIntact) {
  // The exchange's arena starts inline (2 KiB) and continues on the heap: views must stay valid.
  std::string wire = "HTTP/1.1 200 OK\r\n";
  std::string expected;
  for (int i = 0; i < 60; ++i) {
    const std::string name = "X-Field-" + std::to_string(i), value = std::string(100, char('a' + i % 26));
    wire += name + ": " + value + "\r\n";
    expected += name + "=" + value + ";";
  }
  wire += "Content-Length: 0\r\n\r\n";
  expected += "Content-Length=0;";
  const auto r = parse(wire, 333, 16);
  EXPECT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.fields, expected);
}

}  // namespace
}  // namespace gw::upstream

#include "httpio/httpio.h"

#include <gtest/gtest.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>
#include <tuple>

namespace gw::httpio {
namespace {

using tcp = asio::ip::tcp;

// Feeds `bytes` (then closes) to a response parser through httpio::read; returns its error.
error_code read_response(const std::string& bytes, std::string* body = nullptr) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  tcp::socket client(io), server(io);
  client.connect(acceptor.local_endpoint());
  acceptor.accept(server);
  asio::write(server, asio::buffer(bytes));
  server.shutdown(tcp::socket::shutdown_send);
  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1 << 20);
  error_code result;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { result = co_await read(client, buffer, parser); }, asio::detached);
  io.run();  // an exception escaping a handler would end the test here (it used to end the process)
  if (body && !result) *body = parser.get().body();
  return result;
}

TEST(HttpIo, ReadsWholeMessages) {
  std::string body;
  EXPECT_FALSE(read_response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", &body));
  EXPECT_EQ(body, "hello");
  EXPECT_FALSE(
      read_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", &body));
  EXPECT_EQ(body, "abc");
  EXPECT_FALSE(read_response("HTTP/1.1 200 OK\r\n\r\nuntil the end", &body));  // close-delimited
  EXPECT_EQ(body, "until the end");
  EXPECT_EQ(read_response(""), http::error::end_of_stream);
  EXPECT_EQ(read_response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel"), http::error::partial_message);
}

TEST(HttpIo, FieldsOf64KiBAreAnErrorNotAnException) {
  const std::string big(70000, 'a');
  EXPECT_EQ(read_response("HTTP/1.1 200 OK\r\nX-Big: " + big + "\r\nContent-Length: 0\r\n\r\n"),
            http::error::header_limit);
  EXPECT_EQ(
      read_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: " + big + "\r\n\r\n"),
      http::error::header_limit);
}

TEST(HttpIo, SkipDropsWholeAndPartialBuffers) {
  const std::string a = "abc", b = "defgh";
  const std::array<asio::const_buffer, 2> both{asio::buffer(a), asio::buffer(b)};
  auto rest = skip(both, 4);
  EXPECT_EQ(rest[0].size(), 0u);
  EXPECT_EQ(std::string(static_cast<const char*>(rest[1].data()), rest[1].size()), "efgh");
  EXPECT_EQ(asio::buffer_size(skip(both, 0)), 8u);
  EXPECT_EQ(asio::buffer_size(skip(both, 8)), 0u);
}

// A connected pair of worker sockets on 127.0.0.1.
struct Pair {
  asio::io_context io;
  Socket a{io}, b{io};
  Pair() {
    Acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    a.connect(acceptor.local_endpoint());
    acceptor.accept(b);
  }
};

// More than the socket buffers take at once: the rest is written as the peer reads, in order.
TEST(HttpIo, WriteSendsEverythingInOrder) {
  Pair p;
  std::string head = "head:", body(8 << 20, 'x');
  for (std::size_t i = 0; i < body.size(); i += 4096) body[i] = static_cast<char>('a' + (i / 4096) % 26);
  const auto [sent_now, prefix] = send_now(p.a, std::array{asio::const_buffer(body.data(), body.size())});
  EXPECT_FALSE(sent_now);
  std::string got;
  error_code write_ec = asio::error::would_block;
  asio::co_spawn(
      p.io,
      [&]() -> Task<void> {
        write_ec =
            co_await write(p.a, std::array<asio::const_buffer, 2>{asio::buffer(head), asio::buffer(body)});
        p.a.shutdown(Socket::shutdown_send);
      },
      asio::detached);
  asio::co_spawn(
      p.io,
      [&]() -> Task<void> {
        char chunk[65536];
        for (;;) {
          auto [ec, n] = co_await p.b.async_read_some(asio::buffer(chunk), use_tuple);
          if (ec) co_return;
          got.append(chunk, n);
        }
      },
      asio::detached);
  p.io.run();
  EXPECT_FALSE(write_ec) << write_ec.message();
  ASSERT_EQ(got.size(), prefix + head.size() + body.size());
  EXPECT_EQ(got.substr(prefix), head + body);  // send_now reported exactly what it sent
}

// receive_when_ready waits for readiness (no data yet) and then delivers what arrived; EOF is eof.
TEST(HttpIo, ReceiveWhenReadyWaitsForData) {
  Pair p;
  std::string got;
  error_code end;
  asio::co_spawn(
      p.io,
      [&]() -> Task<void> {
        char buf[64];
        auto [ec, n] = co_await receive_when_ready(p.a, asio::buffer(buf), 0, use_tuple);
        got.assign(buf, n);
        std::tie(end, n) = co_await receive_when_ready(p.a, asio::buffer(buf), 0, use_tuple);
      },
      asio::detached);
  asio::co_spawn(
      p.io,
      [&]() -> Task<void> {
        Timer t(p.io, std::chrono::milliseconds(20));
        co_await t.async_wait(use_tuple);
        co_await asio::async_write(p.b, asio::buffer(std::string_view("hello")), use_tuple);
        co_await t.async_wait(use_tuple);
        p.b.shutdown(Socket::shutdown_send);
      },
      asio::detached);
  p.io.run_for(std::chrono::seconds(5));
  EXPECT_EQ(got, "hello");
  EXPECT_EQ(end, asio::error::eof);
}

// Closing the socket ends a pending receive with operation_aborted (how deadlines stop it).
TEST(HttpIo, ReceiveWhenReadyEndsWhenTheSocketCloses) {
  Pair p;
  error_code ec0;
  asio::co_spawn(
      p.io,
      [&]() -> Task<void> {
        char buf[8];
        std::tie(ec0, std::ignore) = co_await receive_when_ready(p.a, asio::buffer(buf), 0, use_tuple);
      },
      asio::detached);
  asio::post(p.io, [&] { p.a.close(); });
  p.io.run_for(std::chrono::seconds(5));
  EXPECT_EQ(ec0, asio::error::operation_aborted);
}

}  // namespace
}  // namespace gw::httpio

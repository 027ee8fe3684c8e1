#include "httpio/httpio.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>

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

}  // namespace
}  // namespace gw::httpio

// Reading HTTP/1.1 messages with Beast's parsers from coroutines. Beast's own composed reads run the
// parser inside a completion handler, where an exception escapes io_context::run and terminates the
// process; and Beast's fields throw std::length_error for a field (header or chunked trailer) of
// 64 KiB or more, because they store 16-bit sizes. So any peer could abort the gateway with one long
// field. Here the parser runs in the coroutine, and that exception becomes http::error::header_limit.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/http/error.hpp>
#include <chrono>
#include <stdexcept>

namespace gw::httpio {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using error_code = boost::system::error_code;

// The workers' I/O types. Each worker's io_context is driven by its one thread, so sockets, timers and
// coroutines name that io_context's executor type instead of asio's default, the type-erased
// any_io_executor, whose copies, work tracking and dispatch go through function pointers on every
// read, write and coroutine resumption.
using Executor = asio::io_context::executor_type;
template <class T>
using Task = asio::awaitable<T, Executor>;
using Socket = asio::basic_stream_socket<asio::ip::tcp, Executor>;
using Acceptor = asio::basic_socket_acceptor<asio::ip::tcp, Executor>;
using Resolver = asio::ip::basic_resolver<asio::ip::tcp, Executor>;
using Timer = asio::basic_waitable_timer<std::chrono::steady_clock,
                                         asio::wait_traits<std::chrono::steady_clock>, Executor>;
inline constexpr asio::use_awaitable_t<Executor> use_task{};
inline constexpr auto use_tuple = asio::as_tuple(use_task);  // co_await yields (error_code, results...)

// Beast's http::async_read_some: parses what is buffered, reading more while the parser needs it.
// Returns when the parser made progress it can report (header done, body bytes, message done) or
// on error. A connection that ends mid-message completes a close-delimited body (put_eof).
// `before_waiting_for_rest()` runs before each read once part of the message has arrived.
struct Nothing {
  void operator()() const {}
};
// The coroutines run on the stream's executor type (a worker's Executor, or any_io_executor elsewhere).
template <class Stream, class DynamicBuffer, class Parser, class BeforeWaitingForRest = Nothing>
asio::awaitable<error_code, typename Stream::executor_type> read_some(
    Stream& stream, DynamicBuffer& buffer, Parser& parser,
    BeforeWaitingForRest before_waiting_for_rest = {}) {
  for (bool buffered = buffer.size() != 0;; buffered = true) {
    if (buffered) {
      error_code ec;
      std::size_t used = 0;
      try {
        used = parser.put(buffer.data(), ec);
      } catch (const std::length_error&) {
        co_return http::error::header_limit;
      }
      buffer.consume(used);
      if (ec != http::error::need_more) co_return ec;
    }
    const std::size_t size = boost::beast::read_size(buffer, 65536);
    if (size == 0) co_return http::error::buffer_overflow;
    if (buffered || parser.got_some()) before_waiting_for_rest();
    auto [ec, n] = co_await stream.async_read_some(
        buffer.prepare(size), asio::as_tuple(asio::use_awaitable_t<typename Stream::executor_type>{}));
    buffer.commit(n);
    if (ec == asio::error::eof) {
      if (!parser.got_some()) co_return http::error::end_of_stream;
      error_code eof;
      parser.put_eof(eof);
      co_return eof;
    }
    if (ec) co_return ec;
  }
}

// Beast's http::async_read: the whole message (with a string body, say).
template <class Stream, class DynamicBuffer, class Parser>
asio::awaitable<error_code, typename Stream::executor_type> read(Stream& stream, DynamicBuffer& buffer,
                                                                 Parser& parser) {
  error_code ec;
  while (!ec && !parser.is_done()) ec = co_await read_some(stream, buffer, parser);
  co_return ec;
}

}  // namespace gw::httpio

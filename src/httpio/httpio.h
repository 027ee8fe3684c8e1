// Reading HTTP/1.1 messages with Beast's parsers from coroutines. Beast's own composed reads run the
// parser inside a completion handler, where an exception escapes io_context::run and terminates the
// process; and Beast's fields throw std::length_error for a field (header or chunked trailer) of
// 64 KiB or more, because they store 16-bit sizes. So any peer could abort the gateway with one long
// field. Here the parser runs in the coroutine, and that exception becomes http::error::header_limit.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/detail/reactor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/http/error.hpp>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>

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

// A body that arrives in pieces: a client's request body relayed to a backend as it comes.
class BodySource {
 public:
  virtual ~BodySource() = default;
  // The next piece, valid until the next call; an empty piece at the end.
  virtual Task<std::pair<error_code, std::string_view>> next() = 0;
};

namespace detail {
// An asio socket's implementation (descriptor, reactor registration), which asio keeps protected.
struct SocketAccess : Socket {
  static auto& implementation(Socket& s) { return (s.*(&SocketAccess::impl_)).get_implementation(); }
};

// A reactor receive that declines the reactor's speculative attempt and runs only once readiness is
// reported (see receive_when_ready).
template <class Handler>
class ReadyReceiveOp : public asio::detail::reactor_op {
 public:
  ReadyReceiveOp(int fd, asio::mutable_buffer buffer, int flags, bool holds_work, Handler handler)
      : reactor_op(error_code(), &ReadyReceiveOp::perform_receive, &ReadyReceiveOp::complete),
        fd_(fd),
        buffer_(buffer),
        flags_(flags),
        holds_work_(holds_work),
        handler_(std::move(handler)) {}
  bool started = false;

 private:
  static status perform_receive(reactor_op* base) {
    auto* op = static_cast<ReadyReceiveOp*>(base);
    if (!op->started) return not_done;
    for (;;) {
      const ssize_t n = ::recv(op->fd_, op->buffer_.data(), op->buffer_.size(), op->flags_ | MSG_DONTWAIT);
      if (n >= 0) {
        op->bytes_transferred_ = static_cast<std::size_t>(n);
        if (n == 0) op->ec_ = asio::error::eof;
        return done;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return not_done;  // a spurious wakeup: keep waiting
      op->ec_ = error_code(errno, asio::error::get_system_category());
      return done;
    }
  }
  // owner is null when the io_context is destroyed with the operation pending: free it, call nothing.
  static void complete(void* owner, asio::detail::operation* base, const error_code&, std::size_t) {
    auto* op = static_cast<ReadyReceiveOp*>(base);
    // The scheduler counts this completion as the end of a unit of work: one the op gave back.
    if (owner && !op->holds_work_) static_cast<asio::detail::scheduler*>(owner)->compensating_work_started();
    Handler handler(std::move(op->handler_));
    const std::size_t n = op->bytes_transferred_;
    // Nothing received and no error: the reactor was shutting down (a receive never completes empty).
    const error_code ec = op->ec_ || n > 0 ? op->ec_ : error_code(asio::error::eof);
    delete op;
    if (owner) std::move(handler)(ec, n);
  }
  int fd_;
  asio::mutable_buffer buffer_;
  int flags_;
  bool holds_work_;
  Handler handler_;
};
}  // namespace detail

// socket.async_receive without asio's speculative first attempt: the receive is made only once the
// reactor reports the socket readable. Right after a request is sent its response cannot be there
// yet, so asio's attempt is a wasted recvfrom (EAGAIN) per backend call, which nginx, reading only
// on readiness, does not make. The reactor is edge-triggered: readiness reported while no receive was
// pending is remembered by asio only for its speculative attempt. So call this only when nothing can
// have arrived unread before: the socket was drained (or its unread bytes found) in this same handler
// turn, with no wait on the io_context in between.
// holds_work = false: the pending receive does not keep io_context::run() going (like an idle
// watch that must not stop a draining worker from finishing); only from the io_context's thread.
template <class Token>
auto receive_when_ready(Socket& socket, asio::mutable_buffer buffer, int flags, Token&& token,
                        bool holds_work = true) {
  return asio::async_initiate<Token, void(error_code, std::size_t)>(
      [&socket, buffer, flags, holds_work](auto handler) {
        using Op = detail::ReadyReceiveOp<std::decay_t<decltype(handler)>>;
        auto& impl = detail::SocketAccess::implementation(socket);
        asio::io_context& context = socket.get_executor().context();
        // A closed socket has no registration: the reactor completes the op at once (bad_descriptor),
        // counted as the thread's own work, which must not be given back.
        const bool gives_back_work = !holds_work && impl.reactor_data_ != nullptr;
        auto* op = new Op(impl.socket_, buffer, flags, !gives_back_work, std::move(handler));
        asio::use_service<asio::detail::reactor>(context).start_op(
            asio::detail::reactor::read_op, impl.socket_, impl.reactor_data_, op, false, true);
        op->started = true;
        if (gives_back_work) asio::use_service<asio::detail::io_context_impl>(context).work_finished();
      },
      token);
}

// Sends as much of `buffers` as the socket takes now, without waiting: (error, bytes sent). A write
// that fits the socket buffer (nearly every response and backend request) then costs no trip through
// the io_context, which async_write's completion would.
template <std::size_t N>
std::pair<error_code, std::size_t> send_now(Socket& socket,
                                            const std::array<asio::const_buffer, N>& buffers) {
  iovec parts[N];
  for (std::size_t i = 0; i < N; ++i) parts[i] = {const_cast<void*>(buffers[i].data()), buffers[i].size()};
  msghdr message{};
  message.msg_iov = parts;
  message.msg_iovlen = N;
  for (;;) {
    const ssize_t n = ::sendmsg(socket.native_handle(), &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) return {error_code{}, static_cast<std::size_t>(n)};
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {error_code{}, 0};
    return {error_code(errno, asio::error::get_system_category()), 0};
  }
}

// `buffers` without their first `n` bytes.
template <std::size_t N>
std::array<asio::const_buffer, N> skip(std::array<asio::const_buffer, N> buffers, std::size_t n) {
  for (auto& b : buffers) {
    const std::size_t take = std::min(n, b.size());
    b += take;
    n -= take;
  }
  return buffers;
}

// Writes all of `buffers`: at once when the socket takes them, the rest with async_write.
template <std::size_t N>
Task<error_code> write(Socket& socket, const std::array<asio::const_buffer, N>& buffers) {
  auto [ec, sent] = send_now(socket, buffers);
  if (!ec && sent < asio::buffer_size(buffers))
    std::tie(ec, std::ignore) = co_await asio::async_write(socket, skip(buffers, sent), use_tuple);
  co_return ec;
}

// HTTP/1.1 chunked framing, for responses to clients and request bodies to backends alike.
// A chunk's size line ("1a2f\r\n"); empty for an empty piece, which must not be framed (it would end
// the body).
struct ChunkSize {
  explicit ChunkSize(std::size_t n) {
    if (n == 0) return;
    size = static_cast<std::size_t>(std::to_chars(bytes, bytes + 16, n, 16).ptr - bytes);
    bytes[size++] = '\r';
    bytes[size++] = '\n';
  }
  asio::const_buffer buffer() const { return {bytes, size}; }
  char bytes[20];
  std::size_t size = 0;
};

// Writes `piece` as one chunk (nothing for an empty piece).
inline Task<error_code> write_chunk(Socket& socket, std::string_view piece) {
  if (piece.empty()) co_return error_code{};
  const ChunkSize size(piece.size());
  co_return co_await write(
      socket, std::array<asio::const_buffer, 3>{size.buffer(), asio::buffer(piece), asio::buffer("\r\n", 2)});
}

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

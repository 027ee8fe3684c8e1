#include "upstream/upstream.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <tuple>

#include "httpio/httpio.h"

namespace gw::upstream {

namespace {
using httpio::use_tuple;

// Errors that mean "the pooled connection was already closed by the backend".
bool stale_connection_error(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == http::error::partial_message;
}
constexpr std::size_t kReadSlack = 65536;  // one read beyond a maximal head

}  // namespace

error_code check_response_head(unsigned status) {
  if (status < 100 || status == 101) return http::error::bad_status;
  return {};
}

bool Client::idle_clean(Connection& conn) {
  return conn.watching ? !conn.idle_watch->dirty : idle_socket_clean(conn.socket.native_handle());
}

void Client::watch_idle(Connection& conn) {
  if (!conn.idle_watch) conn.idle_watch = std::make_shared<Connection::IdleWatch>();
  auto watch = conn.idle_watch;
  conn.watching = true;
  // Not work of the io_context: a worker with only idle connections left has finished.
  httpio::receive_when_ready(
      conn.socket, asio::buffer(&watch->peeked, 1), MSG_PEEK,
      [watch](const error_code& ec, std::size_t) {
        if (ec != asio::error::operation_aborted) watch->dirty = true;
      },
      false);
}

bool Client::idle_socket_clean(int fd) {
  char byte;
  ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void Client::quick_ack(Connection& conn) {
  if (conn.quick_acked) return;
  conn.quick_acked = true;
  int one = 1;
  ::setsockopt(conn.socket.native_handle(), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
}

Client::Client(Executor executor, Options options)
    : executor_(executor), options_(options), resolver_(executor), deadlines_(executor) {}

error_code Client::timed(const Connection& conn, error_code ec) {
  if (!ec || !conn.deadline.expired()) return ec;
  return conn.deadline.cancelled() ? error_code(asio::error::operation_aborted)
                                   : error_code(beast::error::timeout);
}

Client::~Client() = default;

std::size_t Client::sweep(Clock::time_point now) {
  last_sweep_ = now;
  std::size_t dropped = 0;
  for (auto& [key, list] : idle_) {
    auto keep = std::remove_if(list.begin(), list.end(), [&](const std::unique_ptr<Connection>& c) {
      return now - c->idle_since >= options_.idle_timeout || !idle_clean(*c);
    });
    dropped += static_cast<std::size_t>(list.end() - keep);
    list.erase(keep, list.end());
  }
  return dropped;
}

std::size_t Client::idle_connections() const {
  std::size_t n = 0;
  for (const auto& [key, list] : idle_) n += list.size();
  return n;
}

std::unique_ptr<Connection> Client::take_idle(const std::string& key) {
  auto it = idle_.find(key);
  if (it == idle_.end()) return nullptr;
  auto& list = it->second;
  const auto now = Clock::now();
  while (!list.empty()) {
    std::unique_ptr<Connection> c = std::move(list.back());
    list.pop_back();
    // Bytes or EOF on an idle connection: the backend closed it or sent more than it framed.
    if (now - c->idle_since < options_.idle_timeout && idle_clean(*c)) {
      if (c->watching) {
        error_code ignored;
        c->socket.cancel(ignored);  // ends the idle watch, no syscall (its handler sees operation_aborted)
        c->watching = false;
      }
      c->reused = true;
      return c;
    }
  }
  return nullptr;
}

Task<std::pair<error_code, httpio::Resolver::results_type>> Client::resolve(const Target& target,
                                                                            double& dns_seconds) {
  const std::string& key = target.key;
  const auto now = Clock::now();
  if (auto it = dns_.find(key); it != dns_.end() && it->second.expires > now)
    co_return std::pair{error_code{}, it->second.results};
  error_code ec;
  auto address = asio::ip::make_address(target.host, ec);
  if (!ec) {
    auto results = httpio::Resolver::results_type::create(asio::ip::tcp::endpoint(address, target.port),
                                                          target.host, std::to_string(target.port));
    dns_[key] = {results, Clock::time_point::max()};
    co_return std::pair{error_code{}, results};
  }
  const auto resolve_start = Clock::now();
  auto [rec, results] = co_await resolver_.async_resolve(target.host, std::to_string(target.port), use_tuple);
  dns_seconds = std::chrono::duration<double>(Clock::now() - resolve_start).count();
  if (!rec) dns_[key] = {results, now + options_.dns_ttl};
  co_return std::pair{rec, results};
}

Task<std::pair<error_code, std::unique_ptr<Connection>>> Client::connect(const Target& target,
                                                                         const std::string& key,
                                                                         Clock::time_point deadline,
                                                                         double& dns_seconds,
                                                                         const void* cancel_group) {
  auto [ec, results] = co_await resolve(target, dns_seconds);
  if (ec) co_return std::pair{ec, nullptr};
  auto conn = std::make_unique<Connection>(executor_, options_.max_response_header_bytes + kReadSlack);
  conn->pool_key = key;
  // Each resolved address in turn, like Go's dialer, within the one deadline: when it passes, the
  // watch closes the socket and no further address is tried.
  conn->deadline.arm(deadlines_, conn->socket, deadline, cancel_group);
  error_code cec = asio::error::host_not_found;
  for (const auto& entry : results) {
    error_code ignored;
    conn->socket.close(ignored);
    conn->socket.open(entry.endpoint().protocol(), cec);
    if (!cec) std::tie(cec) = co_await conn->socket.async_connect(entry.endpoint(), use_tuple);
    cec = timed(*conn, cec);
    if (!cec || cec == beast::error::timeout || cec == asio::error::operation_aborted) break;
  }
  conn->deadline.disarm();
  if (cec) co_return std::pair{cec, nullptr};
  conn->socket.set_option(asio::ip::tcp::no_delay(true), cec);
  co_return std::pair{error_code{}, std::move(conn)};
}

Task<error_code> Client::send_head(const Target& target, std::string_view request_head, HeadTail tail,
                                   RequestBody body, Clock::time_point deadline, Exchange& out,
                                   bool head_request) {
  const std::string& key = target.key;
  out.finished_at = {};  // a redirect's earlier hop may have set it
  for (int attempt = 0; attempt < 2; ++attempt) {
    const auto get_conn_start = options_.connection_timings ? Clock::now() : Clock::time_point{};
    std::unique_ptr<Connection> conn = take_idle(key);
    if (!conn) {
      double dns_seconds = -1;
      auto [ec, fresh] = co_await connect(target, key, deadline, dns_seconds, out.cancel_group);
      if (options_.connection_timings) out.dns_seconds = dns_seconds;
      if (ec) co_return ec;
      conn = std::move(fresh);
    }
    if (options_.connection_timings)
      out.get_conn_seconds = std::chrono::duration<double>(Clock::now() - get_conn_start).count();
    conn->quick_acked = false;
    conn->deadline.arm(deadlines_, conn->socket, deadline, out.cancel_group);
    // Sent here rather than by async_write, whose completion would be a trip through the io_context:
    // the response is then waited for in this same turn, which receive_when_ready needs.
    error_code wec0;
    bool sent_whole = false;
    if (body.source) {
      wec0 = co_await write_streamed(*conn, request_head, tail.view(), body, out);
      // A backend may answer (401, 413) and close before taking the whole body: like Go's
      // transport, read the answer it sent before giving up on the write.
      if (wec0 && out.body_pulled && !out.body_source_failed && !conn->deadline.expired()) {
        conn->broken = true;
        wec0 = {};
      }
    } else {
      // Chunked: one chunk with all the bytes, then the last chunk.
      const httpio::ChunkSize chunk_size(body.chunked ? body.bytes.size() : 0);
      std::string_view last_chunk;
      if (body.chunked)
        last_chunk = body.bytes.empty() ? std::string_view("0\r\n\r\n") : std::string_view("\r\n0\r\n\r\n");
      const std::array<asio::const_buffer, 5> request{
          asio::buffer(request_head), asio::buffer(tail.bytes, tail.size), chunk_size.buffer(),
          asio::buffer(body.bytes), asio::buffer(last_chunk)};
      std::size_t sent = 0;
      std::tie(wec0, sent) = httpio::send_now(conn->socket, request);
      sent_whole = !wec0 && sent == asio::buffer_size(request);
      if (!wec0 && !sent_whole)  // the socket buffer is full: the rest as room appears
        std::tie(wec0, std::ignore) =
            co_await asio::async_write(conn->socket, httpio::skip(request, sent), use_tuple);
    }
    const error_code wec = timed(*conn, wec0);
    ResponseParser* parser = &out.new_parser();
    parser->header_limit(static_cast<std::uint32_t>(options_.max_response_header_bytes));
    parser->body_limit(boost::none);  // bodies are streamed or bounded by the caller
    if (head_request) parser->skip(true);
    error_code first_ec = wec;
    bool drained = false;  // the first receive took all the socket had
    if (!wec && sent_whole) {
      // The response cannot be here yet: wait for readiness instead of a receive that fails.
      const std::size_t room = beast::read_size(conn->buffer, 65536);
      auto [ec, n] =
          co_await httpio::receive_when_ready(conn->socket, conn->buffer.prepare(room), 0, use_tuple);
      conn->buffer.commit(n);
      drained = !ec && n < room;
      first_ec = ec == asio::error::eof ? error_code(http::error::end_of_stream) : timed(*conn, ec);
    }
    error_code rec = first_ec;
    // Backends that leave Nagle on (Python's http.server, many frameworks) write the head and the
    // body separately; the body then waits for our ACK of the head, which delayed ACK holds for
    // ~40 ms on a reused connection. Once part of a response is in, quick-ack before waiting for
    // the rest (a response that arrives whole, the common case, costs no syscall).
    auto ack_before_waiting = [c = conn.get()] { quick_ack(*c); };
    // Interim 1xx responses (e.g. 100 Continue to a forwarded Expect) precede the real one: skip
    // them, or the gateway would relay a 1xx as final and the real response would poison the pool.
    for (int interim = 0; !rec; ++interim) {
      error_code ec;
      // httpio, not Beast's composed read: a field of 64 KiB must fail this call, not abort the gateway.
      while (!ec && !parser->is_header_done())
        ec = co_await httpio::read_some(conn->socket, conn->buffer, *parser, ack_before_waiting);
      rec = timed(*conn, ec);
      const unsigned status = parser->head().result_int();
      if (rec || status < 100 || status >= 200 || status == 101) break;
      if (interim == 8) rec = http::error::bad_status;  // an endless stream of 1xx
      parser = &out.new_parser();
      parser->header_limit(static_cast<std::uint32_t>(options_.max_response_header_bytes));
      parser->body_limit(boost::none);
      if (head_request) parser->skip(true);
    }
    if (!rec) rec = check_response_head(parser->head().result_int());
    // The whole response arrived with the receive above, in this turn (no further wait: that would
    // have quick-acked first), so the socket is drained: watch it from now until it is reused.
    if (!rec && drained && !conn->quick_acked && !conn->watching &&
        (parser->is_done() || (parser->content_length() && conn->buffer.size() >= *parser->content_length())))
      watch_idle(*conn);
    if (rec) {
      const bool nothing_received = conn->buffer.size() == 0 && !parser->got_some();
      if (conn->reused && attempt == 0 && nothing_received && stale_connection_error(rec) &&
          !conn->deadline.cancelled() && !out.body_pulled)
        continue;
      out.parser.reset();
      co_return rec;
    }
    out.connection = std::move(conn);
    co_return error_code{};
  }
  co_return asio::error::connection_aborted;
}

Task<error_code> Client::write_streamed(Connection& conn, std::string_view head, std::string_view tail,
                                        RequestBody body, Exchange& out) {
  auto ec = co_await httpio::write(conn.socket, std::array{asio::const_buffer(head.data(), head.size()),
                                                           asio::const_buffer(tail.data(), tail.size())});
  while (!ec) {
    out.body_pulled = true;
    auto [source_ec, piece] = co_await body.source->next();
    if (source_ec) {
      out.body_source_failed = true;
      co_return source_ec;
    }
    if (piece.empty()) break;
    out.body_bytes_sent += piece.size();
    if (body.chunked) {
      ec = co_await httpio::write_chunk(conn.socket, piece);
    } else {
      ec = co_await httpio::write(conn.socket, std::array{asio::const_buffer(piece.data(), piece.size())});
    }
  }
  if (!ec && body.chunked)
    ec = co_await httpio::write(conn.socket, std::array{asio::const_buffer("0\r\n\r\n", 5)});
  co_return timed(conn, ec);
}

Task<std::pair<error_code, std::size_t>> Client::read_body_chunk(Exchange& ex, char* data, std::size_t size,
                                                                 Clock::time_point deadline) {
  auto& body = ex.parser->body();
  Connection& conn = *ex.connection;
  conn.deadline.arm(deadlines_, conn.socket, deadline, ex.cancel_group);
  while (!ex.parser->is_done()) {
    body.data = data;
    body.size = size;
    error_code ec = timed(
        conn, co_await httpio::read_some(conn.socket, conn.buffer, *ex.parser, [&conn] { quick_ack(conn); }));
    if (ec == http::error::need_buffer) ec = {};
    const std::size_t got = size - body.size;
    if (ec) co_return std::pair{ec, got};
    if (got > 0) co_return std::pair{error_code{}, got};
  }
  co_return std::pair{error_code{}, std::size_t{0}};
}

Task<error_code> Client::read_body(Exchange& ex, std::string& out, std::size_t limit,
                                   Clock::time_point deadline) {
  if (auto len = ex.content_length()) {
    if (*len > limit) co_return http::error::body_limit;  // refuse before reading a byte of it
    out.reserve(out.size() + *len);
  }
  char chunk[16384];
  while (!ex.done()) {
    auto [ec, n] = co_await read_body_chunk(ex, chunk, sizeof chunk, deadline);
    if (ec) co_return ec;
    if (out.size() + n > limit) co_return http::error::body_limit;
    out.append(chunk, n);
  }
  co_return error_code{};
}

namespace {
// A 204 may not carry a body (RFC 9110 §15.3.5), so a parser never reads one; a backend that
// still declares a length will send those bytes anyway, and they would poison the next request.
template <class Head>
bool declares_body_it_cannot_have(const Head& head) {
  if (head.result_int() != 204) return false;
  const auto length = head[http::field::content_length];
  return !length.empty() && length != "0";
}
}  // namespace

void Client::finish(Exchange& ex) {
  if (!ex.connection) return;
  const auto now = Clock::now();
  ex.finished_at = now;
  if (now - last_sweep_ >= std::chrono::seconds(1)) sweep(now);
  // Leftover bytes after a complete response mean broken framing: never reuse such a connection.
  if (ex.parser && ex.parser->is_done() && ex.parser->keep_alive() && ex.connection->buffer.size() == 0 &&
      !ex.connection->broken && !ex.connection->deadline.expired() &&
      !(ex.connection->watching && ex.connection->idle_watch->dirty) &&
      !declares_body_it_cannot_have(ex.parser->head())) {
    auto& list = idle_[ex.connection->pool_key];
    if (list.size() < options_.max_idle_per_host) {
      ex.connection->deadline.disarm();
      ex.connection->idle_since = now;
      list.push_back(std::move(ex.connection));
      return;
    }
  }
  error_code ignored;
  ex.connection->socket.shutdown(httpio::Socket::shutdown_both, ignored);
  ex.connection.reset();
}

}  // namespace gw::upstream

#include "upstream/upstream.h"

#include <array>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>

namespace gw::upstream {

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Errors that mean "the pooled connection was already closed by the backend".
bool stale_connection_error(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == http::error::partial_message;
}
}  // namespace

Client::Client(asio::any_io_executor executor, Options options)
    : executor_(executor), options_(options), resolver_(executor) {}

Client::~Client() = default;

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
    if (now - c->idle_since < options_.idle_timeout) {
      c->reused = true;
      return c;
    }
  }
  return nullptr;
}

asio::awaitable<std::pair<error_code, asio::ip::tcp::resolver::results_type>> Client::resolve(const Target& target) {
  const std::string& key = target.key;
  const auto now = Clock::now();
  if (auto it = dns_.find(key); it != dns_.end() && it->second.expires > now) co_return std::pair{error_code{}, it->second.results};
  error_code ec;
  auto address = asio::ip::make_address(target.host, ec);
  if (!ec) {
    auto results = asio::ip::tcp::resolver::results_type::create(asio::ip::tcp::endpoint(address, target.port),
                                                                target.host, std::to_string(target.port));
    dns_[key] = {results, Clock::time_point::max()};
    co_return std::pair{error_code{}, results};
  }
  auto [rec, results] = co_await resolver_.async_resolve(target.host, std::to_string(target.port), use_tuple);
  if (!rec) dns_[key] = {results, now + options_.dns_ttl};
  co_return std::pair{rec, results};
}

asio::awaitable<std::pair<error_code, std::unique_ptr<Connection>>> Client::connect(const Target& target,
                                                                                    const std::string& key,
                                                                                    Clock::time_point deadline) {
  auto [ec, results] = co_await resolve(target);
  if (ec) co_return std::pair{ec, nullptr};
  auto conn = std::make_unique<Connection>(executor_);
  conn->pool_key = key;
  conn->stream.expires_at(deadline);
  auto [cec, endpoint] = co_await conn->stream.async_connect(results, use_tuple);
  if (cec) co_return std::pair{cec, nullptr};
  conn->stream.socket().set_option(asio::ip::tcp::no_delay(true), cec);
  co_return std::pair{error_code{}, std::move(conn)};
}

asio::awaitable<error_code> Client::send(const Target& target, std::string_view request_head, std::string_view body,
                                         Clock::time_point deadline, Exchange& out, bool head_request) {
  const std::string& key = target.key;
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::unique_ptr<Connection> conn = take_idle(key);
    if (!conn) {
      auto [ec, fresh] = co_await connect(target, key, deadline);
      if (ec) co_return ec;
      conn = std::move(fresh);
    }
    conn->stream.expires_at(deadline);
    std::array<asio::const_buffer, 2> buffers{asio::buffer(request_head), asio::buffer(body)};
    auto [wec, written] = co_await asio::async_write(conn->stream, buffers, use_tuple);
    ResponseParser* parser = &out.new_parser();
    parser->header_limit(static_cast<std::uint32_t>(options_.max_response_header_bytes));
    parser->body_limit(boost::none);  // bodies are streamed or bounded by the caller
    if (head_request) parser->skip(true);
    error_code rec = wec;
    if (!wec) {
      auto [ec, n] = co_await http::async_read_header(conn->stream, conn->buffer, *parser, use_tuple);
      rec = ec;
    }
    if (rec) {
      const bool nothing_received = conn->buffer.size() == 0 && !parser->got_some();
      if (conn->reused && attempt == 0 && nothing_received && stale_connection_error(rec)) continue;
      out.parser.reset();
      co_return rec;
    }
    out.connection = std::move(conn);
    co_return error_code{};
  }
  co_return asio::error::connection_aborted;
}

asio::awaitable<std::pair<error_code, std::size_t>> Client::read_body_chunk(Exchange& ex, char* data, std::size_t size,
                                                                            Clock::time_point deadline) {
  auto& body = ex.parser->get().body();
  ex.connection->stream.expires_at(deadline);
  while (!ex.parser->is_done()) {
    body.data = data;
    body.size = size;
    auto [ec, n] = co_await http::async_read_some(ex.connection->stream, ex.connection->buffer, *ex.parser, use_tuple);
    if (ec == http::error::need_buffer) ec = {};
    const std::size_t got = size - body.size;
    if (ec) co_return std::pair{ec, got};
    if (got > 0) co_return std::pair{error_code{}, got};
  }
  co_return std::pair{error_code{}, std::size_t{0}};
}

asio::awaitable<error_code> Client::read_body(Exchange& ex, std::string& out, std::size_t limit,
                                              Clock::time_point deadline) {
  if (auto len = ex.content_length(); len && *len <= limit) out.reserve(out.size() + *len);
  char chunk[16384];
  while (!ex.done()) {
    auto [ec, n] = co_await read_body_chunk(ex, chunk, sizeof chunk, deadline);
    if (ec) co_return ec;
    if (out.size() + n > limit) co_return http::error::body_limit;
    out.append(chunk, n);
  }
  co_return error_code{};
}

void Client::finish(Exchange& ex) {
  if (!ex.connection) return;
  // Leftover bytes after a complete response mean broken framing: never reuse such a connection.
  if (ex.parser && ex.parser->is_done() && ex.parser->keep_alive() && ex.connection->buffer.size() == 0) {
    auto& list = idle_[ex.connection->pool_key];
    if (list.size() < options_.max_idle_per_host) {
      ex.connection->stream.expires_never();
      ex.connection->idle_since = Clock::now();
      list.push_back(std::move(ex.connection));
      return;
    }
  }
  error_code ignored;
  ex.connection->stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  ex.connection.reset();
}

}  // namespace gw::upstream

// no-op endpoints: the backend's status, headers (minus hop-by-hop) and body reach the client as
// they are, streamed in bounded chunks so memory does not grow with the body.
#include <array>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>

#include "proxy/endpoint.h"
#include "proxy/errors.h"
#include "proxy/observe.h"

namespace gw::proxy {

namespace {
using httpio::use_tuple;
constexpr std::size_t kChunk = BufferPool::kSize;

bool bodiless_status(unsigned s) { return s < 200 || s == 204 || s == 304; }

std::string chunk_prefix(std::size_t n) {
  char buf[24];
  int len = std::snprintf(buf, sizeof buf, "%zx\r\n", n);
  return std::string(buf, static_cast<std::size_t>(len));
}
}  // namespace

Task<bool> Endpoint::serve_noop(server::Exchange& ex, const router::Match& match, WorkerState& w,
                                RequestScope& scope) const {
  const auto deadline = ex.start + config->timeout;
  const BackendRoute& b = backends[0];
  const std::string ip = client_ip(ex.request, ex.peer_ip);
  const ForwardContext ctx = forward_context(ex, match, ip);
  const std::size_t host = pick_host(b, w);
  ProxyObservation proxy_observe(*this, w, scope);
  // The backend call is the stage's first action: it starts when the stage does (one clock read).
  BackendObservation observe(*this, 0, w, scope, proxy_observe.span(), proxy_observe.start());
  bool asked_for_gzip = false;
  const std::string head = build_request_head(ctx, b, host, {}, observe.propagation(), &asked_for_gzip);
  const bool head_request = b.method == "HEAD";
  const auto request_bytes = static_cast<std::int64_t>(ex.request.body().size());
  upstream::Exchange up;
  // Records the call once, however the exchange ends.
  std::uint64_t body_bytes = 0;
  bool recorded = false;
  auto finish = [&](unsigned status, bool error, bool timed_out, std::int64_t content_length) {
    if (recorded) return;
    recorded = true;
    observe.ended_at(up.finished_at);  // set when the client released the connection just before
    observe.finish(status, error, timed_out, false, request_bytes, content_length, body_bytes,
                   b.authorities[host], head);
    proxy_observe.finish(error, false, observe.end());  // nothing happens between the two ends
  };

  // A client that goes away mid-response still leaves a record of the backend call.
  struct RecordOnExit {
    decltype(finish)& f;
    upstream::Exchange& up;
    ~RecordOnExit() { f(up.parser ? up.status() : 0, true, false, -1); }
  } record_on_exit{finish, up};
  auto ec =
      co_await send_following_redirects(w, b.targets[host], b.authorities[host], head, ex.request.body(),
                                        deadline, up, head_request, b.config->send_body_on_redirect);
  observe.connection_timings(up);
  if (ec) {
    const std::string message = transport_error(b, host, ec);
    observe.describe_error(error_type(ec), message);
    finish(0, true, ec == boost::beast::error::timeout, -1);
    co_return co_await write_error(ex, *this, 500, message, "");
  }

  const unsigned status = up.status();
  const bool no_body = bodiless_status(status) || head_request;
  const auto length = up.content_length();
  // Go's transport undoes the gzip it asked for on a response with a body: the client gets the plain
  // body, without Content-Encoding and Content-Length.
  const bool unzip = asked_for_gzip && !no_body && length != 0 && up.gzip_encoded();
  std::string lines = krakend_header;
  lines += "X-Krakend-Completed: false\r\n";
  for (const auto& f : up.head()) {
    std::string_view name = f.name_string();
    if (is_hop_by_hop(name) || boost::beast::iequals(name, "content-length") ||
        named_in_connection(up.head(), name) || (unzip && f.name() == http::field::content_encoding))
      continue;
    lines.append(name);
    lines += ": ";
    lines.append(f.value());
    lines += "\r\n";
  }
  const bool client_head = ex.request.method() == http::verb::head;
  if (ex.worker.draining.load(std::memory_order_relaxed)) ex.keep_alive = false;
  ex.status = static_cast<int>(status);
  ex.deadline_after(std::chrono::seconds(60));

  BufferPool::Lease buffer(w.buffers);
  // Small bodies of known length: read them whole and answer with one write.
  if (!unzip && (no_body || (length && *length <= kChunk))) {
    std::size_t have = 0;
    while (!no_body && !up.done()) {
      auto [rec, n] =
          co_await w.client.read_body_chunk(up, buffer.data() + have, buffer.size() - have, deadline);
      if (rec) {
        const std::string message = transport_error(b, host, rec);
        observe.describe_error(error_type(rec), message);
        finish(up.status(), true, rec == boost::beast::error::timeout, static_cast<std::int64_t>(*length));
        co_return co_await write_error(ex, *this, 500, message, "");
      }
      have += n;
    }
    body_bytes = have;
    w.client.finish(up);  // first: its clock read ends the backend span too
    finish(status, false, false, length ? static_cast<std::int64_t>(*length) : -1);
    // 1xx/204 never carry Content-Length; 304 and HEAD keep the backend's (the size the body would have).
    long long framing = static_cast<long long>(have);
    if (status < 200 || status == 204)
      framing = server::kNoFraming;
    else if (no_body)
      framing = length ? static_cast<long long>(*length) : server::kNoFraming;
    std::string response = server::response_head(ex.worker, status, lines, framing, ex.keep_alive);
    const std::array<asio::const_buffer, 2> out{asio::buffer(response),
                                                asio::buffer(buffer.data(), client_head ? 0 : have)};
    const auto wec = co_await httpio::write(ex.stream, out);
    ex.bytes_written += have;
    co_return !wec;
  }

  const bool chunked = !length || unzip;
  if (chunked && ex.request.version() < 11) ex.keep_alive = false;  // HTTP/1.0: close-delimited body
  const long long framing = !chunked                     ? static_cast<long long>(*length)
                            : ex.request.version() >= 11 ? server::kChunked
                                                         : server::kNoFraming;
  std::string response_head = server::response_head(ex.worker, status, lines, framing, ex.keep_alive);
  const auto hec = co_await httpio::write(
      ex.stream, std::array{asio::const_buffer(response_head.data(), response_head.size())});
  if (hec) co_return false;
  if (client_head) co_return false;  // the backend body is not read: drop both connections
  const bool frame_chunks = chunked && ex.request.version() >= 11;
  // Relays one piece of the body to the client, framed as announced.
  auto relay = [&](const char* data, std::size_t n) -> Task<bool> {
    if (n == 0) co_return true;
    ex.deadline_after(std::chrono::seconds(60));
    boost::system::error_code wec;
    if (frame_chunks) {
      std::string prefix = chunk_prefix(n);
      wec = co_await httpio::write(
          ex.stream, std::array<asio::const_buffer, 3>{asio::buffer(prefix), asio::buffer(data, n),
                                                       asio::buffer("\r\n", 2)});
    } else {
      wec = co_await httpio::write(ex.stream, std::array{asio::const_buffer(data, n)});
    }
    ex.bytes_written += n;
    co_return !wec;
  };
  // Headers are gone when the body fails: the only honest signal left is closing.
  auto body_failed = [&](std::string_view type, const std::string& message, bool timed_out) {
    observe.describe_error(type, message);
    finish(status, true, timed_out, length ? static_cast<std::int64_t>(*length) : -1);
  };
  std::optional<response::Gunzip> gunzip;
  std::string plain;
  if (unzip) gunzip.emplace();
  while (!up.done()) {
    auto [rec, n] = co_await w.client.read_body_chunk(up, buffer.data(), buffer.size(), deadline);
    if (rec) {
      body_failed(error_type(rec), transport_error(b, host, rec), rec == boost::beast::error::timeout);
      co_return false;
    }
    if (!gunzip) {
      body_bytes += n;
      if (!co_await relay(buffer.data(), n)) co_return false;
      continue;
    }
    gunzip->input(std::string_view(buffer.data(), n));
    while (!gunzip->used_up()) {
      plain.clear();
      std::string error;
      if (!gunzip->read(plain, kChunk, error)) {
        body_failed("decode", error, false);
        co_return false;
      }
      body_bytes += plain.size();
      if (!co_await relay(plain.data(), plain.size())) co_return false;
    }
  }
  if (std::string error; gunzip && !gunzip->finish(error)) {
    body_failed("decode", error, false);
    co_return false;
  }
  w.client.finish(up);
  finish(status, false, false, length ? static_cast<std::int64_t>(*length) : -1);
  if (frame_chunks) {
    auto [wec, wn] = co_await asio::async_write(ex.stream, asio::buffer("0\r\n\r\n", 5), use_tuple);
    if (wec) co_return false;
  }
  co_return chunked&& ex.request.version() < 11 ? false : true;
}

}  // namespace gw::proxy

// no-op endpoints: the backend's status, headers (minus hop-by-hop) and body reach the client as
// they are, streamed in bounded chunks so memory does not grow with the body.
#include <boost/beast/core/string.hpp>

#include "proxy/endpoint.h"
#include "proxy/errors.h"
#include "proxy/observe.h"

namespace gw::proxy {

namespace {
using httpio::use_tuple;
constexpr std::size_t kChunk = BufferPool::kSize;

bool bodiless_status(unsigned s) { return s < 200 || s == 204 || s == 304; }
}  // namespace

Task<bool> Endpoint::serve_noop(server::Exchange& ex, const router::Match& match, WorkerState& w,
                                RequestScope& scope) const {
  const auto deadline = ex.start + config->timeout;
  const BackendRoute& b = backends[0];
  const std::string ip = client_ip(ex.request, ex.peer_ip);
  ForwardContext ctx = forward_context(ex, match, ip);
  ctx.body_stream = ex.body;  // a body still arriving goes to the backend as it comes
  const std::size_t host = pick_host(b, w);
  ProxyObservation proxy_observe(*this, w, scope);
  // The backend call is the stage's first action: it starts when the stage does (one clock read).
  BackendObservation observe(*this, 0, w, scope, proxy_observe.span(), proxy_observe.start());
  if (auto refusal = admit_call(b)) {
    observe.describe_error("refused", *refusal);
    observe.finish(0, true, false, false, 0, -1, 0, b.authorities[host], {});
    proxy_observe.finish(true, false);
    co_return co_await write_error(ex, *this, 500, *refusal, "");
  }
  bool asked_for_gzip = false;
  const upstream::Request request = build_request(ctx, b, host, {}, observe.propagation(), &asked_for_gzip);
  const bool head_request = b.method == "HEAD";
  auto request_bytes = static_cast<std::int64_t>(ex.request.body().size());
  upstream::Exchange up;
  up.cancel_group = &ex;
  // Records the call once, however the exchange ends.
  std::uint64_t body_bytes = 0;
  bool recorded = false;
  auto finish = [&](unsigned status, bool error, bool timed_out, std::int64_t content_length) {
    if (recorded) return;
    recorded = true;
    if (!b.stages.empty()) settle_call(b, status, error);
    observe.ended_at(up.finished_at);  // set when the client released the connection just before
    observe.finish(status, error, timed_out, false, request_bytes, content_length, body_bytes,
                   b.authorities[host], request.target());
    proxy_observe.finish(error, false, observe.end());  // nothing happens between the two ends
  };

  // A client that goes away mid-response still leaves a record of the backend call.
  struct RecordOnExit {
    decltype(finish)& f;
    upstream::Exchange& up;
    ~RecordOnExit() { f(up.parser ? up.status() : 0, true, false, -1); }
  } record_on_exit{finish, up};
  auto ec = co_await send_following_redirects(w, b.targets[host], request, deadline, up,
                                              b.config->send_body_on_redirect);
  observe.connection_timings(up);
  if (ex.body) request_bytes = static_cast<std::int64_t>(up.body_bytes_sent);
  if (ec && up.body_source_failed) {  // the client's upload failed, not the backend
    observe.describe_error("request body", ec.message());
    finish(0, true, false, -1);
    co_return co_await answer_body_failure(ex, ec);
  }
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
  server::HeaderList fields;
  fields.push_back({"X-Krakend", krakend_version});
  fields.push_back({"X-Krakend-Completed", "false"});
  for (const auto& f : up.head()) {
    std::string_view name = f.name_string();
    if (is_hop_by_hop(name) || boost::beast::iequals(name, "content-length") ||
        named_in_connection(up.head(), name) || (unzip && f.name() == http::field::content_encoding))
      continue;
    fields.push_back({name, f.value()});  // views into the exchange's arena, alive until we return
  }
  const bool client_head = ex.request.method() == http::verb::head;
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
    // 304 and HEAD keep the backend's Content-Length (the size the body would have); the transport
    // drops 1xx/204 framing and the body of a HEAD request.
    long long framing = server::Response::kFromBody;
    if (no_body) framing = length ? static_cast<long long>(*length) : server::Response::kNoFraming;
    co_return co_await ex.response->send(status, fields, std::string_view(buffer.data(), have), framing);
  }

  const bool known_length = length && !unzip;
  if (!co_await ex.response->start(status, fields,
                                   known_length ? std::optional<std::uint64_t>(*length) : std::nullopt))
    co_return false;
  if (client_head) co_return false;  // the backend body is not read: drop both connections
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
      if (!co_await ex.response->write(std::string_view(buffer.data(), n))) co_return false;
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
      if (!co_await ex.response->write(plain)) co_return false;
    }
  }
  if (std::string error; gunzip && !gunzip->finish(error)) {
    body_failed("decode", error, false);
    co_return false;
  }
  w.client.finish(up);
  finish(status, false, false, length ? static_cast<std::int64_t>(*length) : -1);
  co_return co_await ex.response->finish();
}

}  // namespace gw::proxy

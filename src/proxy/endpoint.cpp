// JSON endpoints (KrakenD's default): fan out to the backends, decode and shape each body, merge
// in arrival order, apply static data, and render once. Status and header rules of docs/krakend-behavior.md
// §4.2.
#include "proxy/endpoint.h"

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/string.hpp>
#include <exception>

#include "proxy/errors.h"
#include "proxy/merge.h"
#include "proxy/observe.h"

namespace gw::proxy {

namespace {
using httpio::use_tuple;
constexpr std::size_t kMaxBackendBody = 64u << 20;  // JSON bodies are buffered: bound them

template <typename Header>
std::string header_value(const Header& h, http::field f) {
  auto it = h.find(f);
  return it == h.end() ? std::string() : std::string(it->value());
}

// "http://host:port/path?query" of a request, for error texts.
std::string request_url(const upstream::Request& request) {
  return "http://" + std::string(request.authority()) + std::string(request.target());
}

Task<void> call_backend(const Endpoint& ep, std::size_t index, const ForwardContext& ctx, WorkerState& w,
                        RequestScope& scope, std::size_t parent_span, upstream::Clock::time_point deadline,
                        std::string path_override, BackendResult& out) {
  const BackendRoute& b = ep.backends[index];
  BackendObservation observe(ep, index, w, scope, parent_span);
  const std::size_t host = pick_host(b, w);
  if (auto refusal = admit_call(b)) {
    out.error = std::move(*refusal);
    observe.describe_error("refused", out.error);
    observe.finish(0, true, false, false, 0, -1, 0, b.authorities[host], {});
    co_return;
  }
  // Every way out of this call tells the backend stages how it ended.
  struct Settle {
    const BackendRoute& b;
    const BackendResult& out;
    unsigned status = 0;
    ~Settle() {
      if (!b.stages.empty()) settle_call(b, status, !out.ok || !out.complete);
    }
  } settle{b, out};
  const upstream::Request request = build_request(ctx, b, host, path_override, observe.propagation());
  const auto request_bytes = static_cast<std::int64_t>(ctx.request.body().size());
  upstream::Exchange up;
  up.cancel_group = ctx.cancel_group;
  auto ec = co_await send_following_redirects(w, b.targets[host], request, deadline, up,
                                              b.config->send_body_on_redirect);
  observe.connection_timings(up);
  if (ec) {
    out.error = transport_error(b, host, ec);
    observe.describe_error(error_type(ec), out.error);
    observe.finish(0, true, ec == boost::beast::error::timeout, false, request_bytes, -1, 0,
                   b.authorities[host], request.target());
    co_return;
  }
  const unsigned status = up.status();
  settle.status = status;
  const auto length = up.content_length();
  const std::int64_t content_length = length ? static_cast<std::int64_t>(*length) : -1;
  std::string body;
  ec = co_await w.client.read_body(up, body, kMaxBackendBody, deadline);
  w.client.finish(up);
  if (ec) {
    out.error = transport_error(b, host, ec);
    observe.describe_error(error_type(ec), out.error);
    observe.finish(status, true, ec == boost::beast::error::timeout, false, request_bytes, content_length,
                   body.size(), b.authorities[host], request.target());
    co_return;
  }
  // The gateway asked for gzip (Accept-Encoding, as Go's transport does): undo it before decoding.
  // (A no-op-encoded backend may have been asked too; its body is never read as data.)
  if (b.decodes_body && up.gzip_encoded()) {
    std::string plain, gzip_error;
    if (!response::gunzip(body, plain, kMaxBackendBody, gzip_error)) {
      out.error = gzip_error;
      observe.describe_error("decode", out.error);
      observe.finish(status, true, false, false, request_bytes, content_length, body.size(),
                     b.authorities[host], request.target());
      co_return;
    }
    body = std::move(plain);
  }
  const auto& shaping = ep.shaping[index];
  if (status != 200 && status != 201) {
    const std::string content_type = header_value(up.head(), http::field::content_type);
    const config::Backend& cfg = *b.config;
    out.error = "invalid status code " + std::to_string(status) + " [" + b.method + " " + cfg.url_pattern +
                "]: " + request_url(request);
    observe.describe_error("status", out.error);
    observe.finish(status, true, false, false, request_bytes, content_length, body.size(),
                   b.authorities[host], request.target());
    if (!cfg.return_error_details.empty()) {
      // The failure becomes data: {"error_<name>": {...}}, and the response is incomplete. Lura
      // returns it before the response formatter: no target/allow/group on it.
      out.data =
          response::error_details(cfg.return_error_details, static_cast<int>(status), body, content_type);
      out.ok = true;
      out.complete = false;
      co_return;
    }
    if (cfg.return_error_code) {
      out.error_status = status;
      out.error_body = std::move(body);
      out.error_content_type = content_type;
    }
    co_return;
  }
  std::string error;
  const std::size_t body_bytes = body.size();
  if (!response::decode(body, shaping, out.data, error)) {
    out.error = error;
    observe.describe_error("decode", out.error);
    observe.finish(status, true, false, false, request_bytes, content_length, body_bytes, b.authorities[host],
                   request.target());
    co_return;
  }
  response::shape(out.data, shaping);
  out.ok = true;
  out.complete = true;
  observe.finish(status, false, false, true, request_bytes, content_length, body_bytes, b.authorities[host],
                 request.target());
}

// Runs fn(0..count-1) concurrently on this worker and waits for all; fn(i) reports its index
// through `arrival` when done. Every call is bounded by its deadline, so the wait is bounded too.
// The last call runs in this coroutine and only the others are spawned beside it: a co_spawn (its
// frames and the post that starts it) fewer per request.
template <typename Fn>
Task<void> run_all(httpio::Executor ex, std::size_t count, std::vector<std::size_t>& arrival, Fn fn) {
  if (count == 0) co_return;
  httpio::Timer all_done(ex, upstream::Clock::time_point::max());
  std::size_t remaining = count - 1;
  for (std::size_t i = 0; i + 1 < count; ++i) {
    asio::co_spawn(
        ex,
        [&, i]() -> Task<void> {
          co_await fn(i);
          arrival.push_back(i);
          if (--remaining == 0) all_done.cancel();
        },
        asio::detached);
  }
  // The spawned calls use this frame (arrival, remaining, the timer): wait for them even if ours throws.
  std::exception_ptr failure;
  try {
    co_await fn(count - 1);
    arrival.push_back(count - 1);
  } catch (...) {
    failure = std::current_exception();
  }
  while (remaining > 0) co_await all_done.async_wait(use_tuple);
  if (failure) std::rethrow_exception(failure);
}

// concurrent_calls: the same backend request N times; the first complete answer wins, else the
// last one to arrive (Lura's concurrent proxy, with 75% of the endpoint timeout). The losers are
// not cancelled but run out by that deadline.
Task<void> call_backend_concurrently(const Endpoint& ep, std::size_t index, const ForwardContext& ctx,
                                     WorkerState& w, RequestScope& scope, std::size_t parent_span,
                                     upstream::Clock::time_point start, std::string path_override,
                                     BackendResult& out) {
  const int calls = ep.config->concurrent_calls;
  const auto deadline = start + ep.config->timeout * 75 / 100;
  std::vector<BackendResult> attempts(static_cast<std::size_t>(calls));
  std::vector<std::size_t> arrival;
  co_await run_all(w.executor, attempts.size(), arrival, [&](std::size_t i) {
    return call_backend(ep, index, ctx, w, scope, parent_span, deadline, path_override, attempts[i]);
  });
  std::size_t chosen = arrival.back();
  for (std::size_t i : arrival)
    if (attempts[i].ok && attempts[i].complete) {
      chosen = i;
      break;
    }
  out = std::move(attempts[chosen]);
}

}  // namespace

ForwardContext Endpoint::forward_context(server::Exchange& ex, const router::Match& match,
                                         const std::string& ip) const {
  return ForwardContext{ex.request, ip, match, config->params, headers, query, user_agent, &ex};
}

Task<bool> Endpoint::handle(server::Exchange& ex, const router::Match& match, WorkerState& w,
                            RequestScope& scope) const {
  // Not a coroutine itself: the caller awaits the chosen one directly (one frame fewer per request),
  // and an endpoint without router stages or a body to read first goes straight to its proxy.
  if (!router_stages.empty() || (ex.body && !streams_body)) return guarded(ex, match, w, scope);
  return noop ? serve_noop(ex, match, w, scope) : serve_json(ex, match, w, scope);
}

Task<bool> Endpoint::guarded(server::Exchange& ex, const router::Match& match, WorkerState& w,
                             RequestScope& scope) const {
  // The body whole before anything else, unless the proxy streams it (no-op endpoints).
  // The WAF reads a body it can parse (JSON, form) whole too, to inspect it before any backend sees it.
  bool read_body = ex.body && !streams_body;
  for (const auto& stage : router_stages) read_body = read_body || (ex.body && stage->needs_body(ex));
  if (read_body)
    if (const unsigned status = co_await server::read_whole_body(ex))
      co_return co_await answer_body_failure(ex, status);
  StageScratch scratch;
  for (const auto& stage : router_stages)
    if (auto reply = stage->on_request(ex, &match, scratch, scope))
      co_return co_await ex.response->send(reply->status, reply->headers, reply->body);
  // Two statements, not `co_await (noop ? a : b)`: GCC 12 destroys the conditional's awaitable twice
  // (found by the ASan e2e run).
  if (noop) co_return co_await serve_noop(ex, match, w, scope);
  co_return co_await serve_json(ex, match, w, scope);
}

Task<bool> Endpoint::serve_json(server::Exchange& ex, const router::Match& match, WorkerState& w,
                                RequestScope& scope) const {
  ProxyObservation observe(*this, w, scope);
  const std::string ip = client_ip(ex.request, ex.peer_ip);
  const ForwardContext ctx = forward_context(ex, match, ip);
  const std::size_t n = backends.size();
  std::vector<BackendResult> parts(n);
  std::vector<std::size_t> arrival;
  arrival.reserve(n);

  const bool concurrent = config->concurrent_calls > 1;
  if (n == 1) {
    if (concurrent)
      co_await call_backend_concurrently(*this, 0, ctx, w, scope, observe.span(), ex.start, {}, parts[0]);
    else
      co_await call_backend(*this, 0, ctx, w, scope, observe.span(), ex.start + config->timeout, {},
                            parts[0]);
    arrival.push_back(0);
  } else {
    // Multi-backend merges give up at 85% of the endpoint timeout (Lura's merge deadline).
    const auto deadline = ex.start + config->timeout * 85 / 100;
    if (sequential) {
      std::vector<const json::Value*> previous(n, nullptr);
      for (std::size_t i = 0; i < n; ++i) {
        std::string path;
        backends[i].url.render(match, config->params, path);
        path = response::substitute_sequential(path, previous);
        co_await call_backend(*this, i, ctx, w, scope, observe.span(), deadline, std::move(path), parts[i]);
        arrival.push_back(i);
        if (!parts[i].ok || !parts[i].complete) break;  // stop on the first failure
        previous[i] = &parts[i].data;
      }
    } else {
      co_await run_all(ex.stream.get_executor(), n, arrival, [&](std::size_t i) {
        return concurrent ? call_backend_concurrently(*this, i, ctx, w, scope, observe.span(), ex.start, {},
                                                      parts[i])
                          : call_backend(*this, i, ctx, w, scope, observe.span(), deadline, {}, parts[i]);
      });
    }
  }

  // Merge in arrival order (§4.5), then choose the answer (§4.2).
  const MergeRules rules{&flatmap, static_data ? &*static_data : nullptr};
  Merged merged = merge_results(parts, arrival, n, rules);
  observe.finish(merged.has_error, merged.complete && merged.has_data);
  const Answer answer = choose_answer(merged, n);
  if (answer.is_error)
    co_return co_await write_error(ex, *this, answer.status, answer.error_message, answer.error_content_type);

  auto accept = ex.request.find(http::field::accept);
  response::Rendered out =
      response::render(output_encoding, &merged.data,
                       accept == ex.request.end() ? std::string_view() : std::string_view(accept->value()));
  server::HeaderList fields;
  fields.push_back({"Content-Type", out.content_type});
  fields.push_back({"X-Krakend", krakend_version});
  fields.push_back({"X-Krakend-Completed", answer.completed ? "true" : "false"});
  if (answer.completed && !cache_control.empty()) fields.push_back({"Cache-Control", cache_control});
  co_return co_await ex.response->send(200, fields, out.body);
}

std::string transport_error(const BackendRoute& backend, std::size_t host, const upstream::error_code& ec) {
  std::string method = backend.method;
  for (std::size_t i = 1; i < method.size(); ++i) method[i] = static_cast<char>(std::tolower(method[i]));
  std::string reason = ec == boost::beast::error::timeout            ? "context deadline exceeded"
                       : ec == boost::system::errc::too_many_links   ? "stopped after 10 redirects"
                       : ec == boost::asio::error::operation_aborted ? "context canceled"
                                                                     : ec.message();
  return method + " \"http://" + backend.authorities[host] + backend.url.normalized + "\": " + reason;
}

std::string_view error_type(const upstream::error_code& ec) {
  return ec == boost::beast::error::timeout            ? "timeout"
         : ec == boost::system::errc::too_many_links   ? "redirects"
         : ec == boost::asio::error::operation_aborted ? "canceled"
                                                       : "transport";
}

Task<bool> answer_body_failure(server::Exchange& ex, unsigned status) {
  ex.keep_alive = false;
  static constexpr std::array<server::Header, 1> kPlain{
      server::Header{"Content-Type", "text/plain; charset=utf-8"}};
  const std::string body = std::to_string(status) + " " + std::string(server::reason(status));
  co_return co_await ex.response->send(status, kPlain, body);
}

Task<bool> write_error(server::Exchange& ex, const Endpoint& endpoint, unsigned status,
                       const std::string& message, const std::string& content_type) {
  server::HeaderList fields;
  fields.push_back({"X-Krakend", endpoint.krakend_version});
  fields.push_back({"X-Krakend-Completed", "false"});
  std::string_view body;
  if (endpoint.router->return_error_msg) {
    body = message;
    fields.push_back({"Content-Type", content_type.empty() ? std::string_view("text/plain; charset=utf-8")
                                                           : std::string_view(content_type)});
  }
  co_return co_await ex.response->send(status, fields, body);
}

}  // namespace gw::proxy

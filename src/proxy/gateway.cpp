// Routing and the built-in endpoints; everything endpoint-specific lives in endpoint.cpp / noop.cpp.
#include <sys/time.h>

#include <array>
#include <charconv>
#include <ctime>

#include "proxy/endpoint.h"
#include "proxy/pipeline.h"
#include "proxy/proxy.h"
#include "proxy/stages.h"
#include "router/router.h"

namespace gw::proxy {

namespace {

// Go's time.Now().String(): "2006-01-02 15:04:05.999999999 +0000 UTC m=+1.234567890".
std::string go_time_now(std::chrono::steady_clock::time_point started) {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  std::tm tm{};
  gmtime_r(&ts.tv_sec, &tm);
  char buf[96];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  double mono = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::snprintf(buf + n, sizeof buf - n, ".%09ld +0000 UTC m=+%.9f", ts.tv_nsec, mono);
  return buf;
}

bool contains_any(std::string_view s, std::string_view chars) {
  return s.find_first_of(chars) != std::string_view::npos;
}

// "." or ".." as a whole value or between '\\' / ';' ("..;" is ".." to Tomcat, '\\' is '/' to some
// servers): substituted into url_pattern it would climb the backend's path.
bool dot_segment(std::string_view v) {
  for (std::size_t start = 0;;) {
    std::size_t end = v.find_first_of("\\;", start);
    std::string_view part =
        v.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (part == "." || part == "..") return true;
    if (end == std::string_view::npos) return false;
    start = end + 1;
  }
}

// Lura's paramChecker: a decoded param that still holds %-escapes, '?' or '#' is refused.
// We also refuse "." and "..": substituted into url_pattern they would climb the backend's path.
std::optional<std::string> bad_param(std::string_view v) {
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '%') continue;
    if (i + 2 >= v.size() || router::hex_digit(v[i + 1]) < 0 || router::hex_digit(v[i + 2]) < 0)
      return "error: invalid URL escape \"" +
             std::string(v.substr(i, std::min<std::size_t>(3, v.size() - i))) + "\"";
    return std::string("error: encoded url params");
  }
  if (contains_any(v, "?#") || dot_segment(v)) return std::string("error: encoded url params");
  return std::nullopt;
}

constexpr std::array<server::Header, 1> kJsonType{
    server::Header{"Content-Type", "application/json; charset=utf-8"}};

class Gateway final : public server::Handler {
 public:
  Gateway(std::shared_ptr<const config::Service> service, Options options)
      : service_(std::move(service)),
        options_(std::move(options)),
        started_(std::chrono::steady_clock::now()) {
    const auto& router_opts = service_->router;
    router_ = router::Router(router::Options{!router_opts.disable_redirect_trailing_slash,
                                             !router_opts.disable_redirect_fixed_path,
                                             !router_opts.disable_handle_method_not_allowed});
    pipeline_ = build_pipeline(*service_, options_);
    krakend_version_ =
        "Version " + (router_opts.hide_version_header ? std::string("undefined") : options_.version);
    for (std::size_t i = 0; i < pipeline_.endpoints.size(); ++i) {
      const config::Endpoint& e = *pipeline_.endpoints[i].config;
      try {
        router_.add(e.method, e.route, static_cast<int>(i));
      } catch (const router::RouteConflict& c) {
        throw config::ConfigError("'" + service_->source_path + "': endpoint " + e.method + " " + e.path +
                                  ": " + c.what());
      }
    }
    if (!router_opts.disable_health) {
      health_handler_ = static_cast<int>(pipeline_.endpoints.size());
      try {
        router_.add("GET", router_opts.health_path, health_handler_);
      } catch (const router::RouteConflict& c) {
        throw config::ConfigError("'" + service_->source_path + "': health_path " + router_opts.health_path +
                                  ": " + c.what());
      }
    }
  }

  void attach(server::Worker& worker) override {
    upstream::Options o;
    o.max_idle_per_host = service_->max_idle_connections_per_host;
    o.idle_timeout = service_->idle_connection_timeout;
    o.connection_timings = options_.metrics && options_.metrics->config().detailed_connection;
    auto state = std::make_shared<WorkerState>(worker.io.get_executor(), o);
    state->lane = worker.index;
    if (options_.metrics) state->metrics = &options_.metrics->shard(worker.index);
    worker.app_state = std::move(state);
  }

  // Observability around every request: server span, http_server_* metrics, access log.
  Task<bool> handle(server::Exchange& ex) override {
    auto& state = *static_cast<WorkerState*>(ex.worker.app_state.get());
    RequestScope scope;
    telemetry::Trace trace;
    if (options_.tracer && options_.tracer->enabled()) {
      scope.tracer = options_.tracer.get();
      scope.trace = &trace;
      scope.tracer->start_trace_into(
          trace, telemetry::extract(scope.tracer->config().propagation, propagation_headers(ex.request)),
          "api-gateway.request", "", "web", telemetry::unix_ns_at(ex.start));
    }
    // A client that goes away takes its request's backend calls with it (Go's request context).
    ex.on_client_gone = [](server::Exchange& gone) {
      static_cast<WorkerState*>(gone.worker.app_state.get())->client.cancel(&gone);
    };
    Routed routed;
    StageScratch scratch;
    bool usable = true;
    bool answered = false;
    for (const auto& stage : pipeline_.engine) {
      if (auto reply = stage->on_request(ex, scratch)) {
        usable = co_await ex.response->send(reply->status, reply->headers, reply->body);
        answered = true;
        break;
      }
    }
    if (!answered) usable = co_await dispatch(ex, state, scope, routed);
    if (pipeline_.appsec) pipeline_.appsec->finish(ex, scope, state.lane);  // before the span is closed
    const std::string_view method = ex.request.method_string();
    const std::string_view target = ex.request.target();
    const auto end = server::Clock::now();  // one read for metrics, span and access log
    if (state.metrics && !routed.skip_telemetry)
      state.metrics->server(routed.route_id, method, ex.status,
                            std::chrono::duration<double>(end - ex.start).count(), ex.bytes_written);
    telemetry::LogCorrelation corr;
    if (scope.trace && !routed.skip_telemetry) {
      telemetry::Span& root = trace.spans[0];
      corr = {root.trace_id_low, root.trace_id_high, root.span_id};
      char digits[8];
      const std::string_view status(digits,
                                    std::to_chars(digits, digits + sizeof digits, ex.status).ptr - digits);
      const std::string_view rest = routed.route.empty() ? status : routed.route;
      root.resource.reserve(method.size() + 1 + rest.size());
      root.resource.append(method).append(1, ' ').append(rest);
      if (routed.endpoint && method == routed.endpoint->config->method) {
        root.meta.add_encoded(routed.endpoint->span_tags, routed.endpoint->span_tag_count);
      } else {
        root.set_meta("span.kind", "server");
        root.set_meta("http.method", method);
        if (!routed.route.empty()) root.set_meta("http.route", routed.route);
      }
      root.set_meta("http.url", target);
      root.set_meta("http.status_code", status);
      if (ex.status >= 500) root.error = 1;
      root.finish(telemetry::unix_ns_at(end));
      scope.tracer->finish(std::move(trace), state.lane);
    }
    if (options_.logger && !service_->router.disable_access_log && !skip_access_log(target)) {
      auto ua = ex.request.find(http::field::user_agent);
      telemetry::AccessLogEntry entry;
      entry.method = method;
      entry.path = target;
      entry.route = routed.route;
      entry.client_ip = ex.peer_ip;
      entry.user_agent = ua == ex.request.end() ? std::string_view() : std::string_view(ua->value());
      entry.status = ex.status;
      entry.duration_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(end - ex.start).count();
      entry.bytes = ex.bytes_written;
      entry.unix_ns = telemetry::unix_ns_at(end);  // the read above, not another one
      options_.logger->access(state.lane, entry, corr.span_id ? &corr : nullptr);
    }
    co_return usable;
  }

 private:
  // What routing decided, for the observability wrapper.
  struct Routed {
    std::uint32_t route_id = telemetry::MetricsShard::kUnmatched;
    std::string_view route;  // gin form (owned by the config); empty when unmatched
    const Endpoint* endpoint = nullptr;
    bool skip_telemetry = false;  // /__health, like KrakenD's default skip_paths
  };

  // router.logger_skip_paths: exact paths (query ignored), like gin's SkipPaths.
  bool skip_access_log(std::string_view target) const {
    const std::string_view path = target.substr(0, target.find('?'));
    for (const auto& p : service_->router.logger_skip_paths)
      if (p == path) return true;
    return false;
  }

  // One pass over the request's headers (instead of a lookup per propagation header); the first
  // occurrence of a name wins, as with find().
  static telemetry::PropagationHeaders propagation_headers(const server::Request& req) {
    telemetry::PropagationHeaders h;
    for (const auto& f : req) {
      const std::string_view name = f.name_string();
      std::string_view* slot = nullptr;
      if (name.size() >= 11 && (name[0] == 'x' || name[0] == 'X')) {
        if (name.size() < 14 || !boost::beast::iequals(name.substr(0, 10), "x-datadog-")) continue;
        const std::string_view rest = name.substr(10);
        if (boost::beast::iequals(rest, "trace-id"))
          slot = &h.x_datadog_trace_id;
        else if (boost::beast::iequals(rest, "parent-id"))
          slot = &h.x_datadog_parent_id;
        else if (boost::beast::iequals(rest, "sampling-priority"))
          slot = &h.x_datadog_sampling_priority;
        else if (boost::beast::iequals(rest, "origin"))
          slot = &h.x_datadog_origin;
        else if (boost::beast::iequals(rest, "tags"))
          slot = &h.x_datadog_tags;
      } else if (name.size() == 11 && boost::beast::iequals(name, "traceparent")) {
        slot = &h.traceparent;
      } else if (name.size() == 10 && boost::beast::iequals(name, "tracestate")) {
        slot = &h.tracestate;
      } else if (name.size() == 7 && boost::beast::iequals(name, "baggage")) {
        slot = &h.baggage;
      }
      if (slot && slot->data() == nullptr) *slot = std::string_view(f.value().data(), f.value().size());
    }
    return h;
  }

  Task<bool> dispatch(server::Exchange& ex, WorkerState& state, RequestScope& scope, Routed& routed) {
    std::string_view target = ex.request.target();
    std::string_view raw_path = target.substr(0, target.find('?'));
    std::string_view raw_query =
        raw_path.size() < target.size() ? target.substr(raw_path.size() + 1) : std::string_view();
    if (raw_path.empty() || raw_path[0] != '/') {  // absolute-form or garbage
      co_return co_await plain(ex, 400, "400 Bad Request");
    }
    std::string path;
    if (!router::percent_decode(raw_path, path)) co_return co_await plain(ex, 400, "400 Bad Request");

    if (service_->debug_endpoint && (path == "/__debug" || path.rfind("/__debug/", 0) == 0))
      co_return co_await ex.response->send(200, kJsonType, R"({"message":"pong"})");

    const std::string_view method = ex.request.method_string();
    router::Match m = router_.find(method, path);
    if (pipeline_.appsec && m.kind != router::Match::Kind::Found) {  // scanners probe what is not there
      StageScratch scratch;
      if (auto reply = pipeline_.appsec->on_request(ex, nullptr, scratch, scope))
        co_return co_await ex.response->send(reply->status, reply->headers, reply->body);
    }
    switch (m.kind) {
      case router::Match::Kind::Found:
        break;
      case router::Match::Kind::NotFound:
        co_return co_await not_found(ex);
      case router::Match::Kind::MethodNotAllowed:
        co_return co_await method_not_allowed(ex, m.allow);
      case router::Match::Kind::Redirect: {
        std::string location = m.location;
        if (!raw_query.empty()) location += "?" + std::string(raw_query);
        co_return co_await redirect(ex, static_cast<unsigned>(m.redirect_status), location);
      }
    }
    if (m.handler == health_handler_) {
      routed.skip_telemetry = true;
      std::string body = R"({"agents":{},"now":")" + go_time_now(started_) + R"(","status":"ok"})";
      co_return co_await ex.response->send(200, kJsonType, body);
    }
    if (!service_->router.disable_path_decoding) {
      for (std::size_t i = 0; i < m.param_count; ++i)
        if (auto problem = bad_param(m.params[i].second)) co_return co_await plain(ex, 400, *problem);
    }
    const Endpoint& endpoint = pipeline_.endpoints[static_cast<std::size_t>(m.handler)];
    routed.route_id = endpoint.route_id;
    routed.route = endpoint.config->route;
    routed.endpoint = &endpoint;
    co_return co_await endpoint.handle(ex, m, state, scope);
  }

  Task<bool> plain(server::Exchange& ex, unsigned status, std::string_view body) {
    static constexpr std::array<server::Header, 1> kPlain{
        server::Header{"Content-Type", "text/plain; charset=utf-8"}};
    co_return co_await ex.response->send(status, kPlain, body);
  }

  Task<bool> not_found(server::Exchange& ex) {
    const bool json = service_->router.error_body_404.has_value();
    const std::array<server::Header, 3> fields{
        server::Header{"Content-Type", json ? "application/json; charset=utf-8" : "text/plain"},
        server::Header{"X-Krakend", krakend_version_}, server::Header{"X-Krakend-Completed", "false"}};
    co_return co_await ex.response->send(
        404, fields,
        json ? std::string_view(*service_->router.error_body_404) : std::string_view("404 page not found"));
  }

  Task<bool> method_not_allowed(server::Exchange& ex, const std::string& allow) {
    const bool json = service_->router.error_body_405.has_value();
    const std::array<server::Header, 4> fields{
        server::Header{"Content-Type", json ? "application/json; charset=utf-8" : "text/plain"},
        server::Header{"Allow", allow}, server::Header{"X-Krakend", krakend_version_},
        server::Header{"X-Krakend-Completed", "false"}};
    co_return co_await ex.response->send(405, fields,
                                         json ? std::string_view(*service_->router.error_body_405)
                                              : std::string_view("405 method not allowed"));
  }

  Task<bool> redirect(server::Exchange& ex, unsigned status, const std::string& location) {
    if (ex.request.method() == http::verb::get || ex.request.method() == http::verb::head) {
      const std::array<server::Header, 2> fields{server::Header{"Location", location},
                                                 server::Header{"Content-Type", "text/html; charset=utf-8"}};
      std::string body = "<a href=\"" + location + "\">" + std::string(server::reason(status)) + "</a>.\n\n";
      co_return co_await ex.response->send(status, fields, body);
    }
    const std::array<server::Header, 1> fields{server::Header{"Location", location}};
    co_return co_await ex.response->send(status, fields, "");
  }

  std::shared_ptr<const config::Service> service_;
  Options options_;
  std::chrono::steady_clock::time_point started_;
  router::Router router_;
  std::string krakend_version_;  // X-Krakend's value
  Pipeline pipeline_;
  int health_handler_ = -2;
};

}  // namespace

std::shared_ptr<server::Handler> make_gateway(std::shared_ptr<const config::Service> service,
                                              Options options) {
  return std::make_shared<Gateway>(std::move(service), std::move(options));
}

}  // namespace gw::proxy

// Routing and the built-in endpoints; everything endpoint-specific lives in endpoint.cpp / noop.cpp.
#include <sys/time.h>

#include <charconv>
#include <ctime>

#include "proxy/endpoint.h"
#include "proxy/proxy.h"
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
    krakend_header_ = "X-Krakend: Version " +
                      (router_opts.hide_version_header ? std::string("undefined") : options_.version) +
                      "\r\n";
    const std::string user_agent = "KrakenD Version " + options_.version;
    for (const auto& e : service_->endpoints) {
      endpoints_.push_back(compile(e, user_agent));
      endpoints_.back().route_id = static_cast<std::uint32_t>(endpoints_.size() - 1);
      try {
        router_.add(e.method, e.route, static_cast<int>(endpoints_.size() - 1));
      } catch (const router::RouteConflict& c) {
        throw config::ConfigError("'" + service_->source_path + "': endpoint " + e.method + " " + e.path +
                                  ": " + c.what());
      }
    }
    if (!router_opts.disable_health) {
      health_handler_ = static_cast<int>(endpoints_.size());
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
    Routed routed;
    const bool usable = co_await dispatch(ex, state, scope, routed);
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
      co_return co_await plain(ex, 400, "400 Bad Request", "");
    }
    std::string path;
    if (!router::percent_decode(raw_path, path)) co_return co_await plain(ex, 400, "400 Bad Request", "");

    if (service_->debug_endpoint && (path == "/__debug" || path.rfind("/__debug/", 0) == 0))
      co_return co_await server::write_response(ex, 200, "Content-Type: application/json; charset=utf-8\r\n",
                                                R"({"message":"pong"})");

    const std::string_view method = ex.request.method_string();
    router::Match m = router_.find(method, path);
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
      co_return co_await server::write_response(ex, 200, "Content-Type: application/json; charset=utf-8\r\n",
                                                body);
    }
    if (!service_->router.disable_path_decoding) {
      for (std::size_t i = 0; i < m.param_count; ++i)
        if (auto problem = bad_param(m.params[i].second)) co_return co_await plain(ex, 400, *problem, "");
    }
    const Endpoint& endpoint = endpoints_[static_cast<std::size_t>(m.handler)];
    routed.route_id = endpoint.route_id;
    routed.route = endpoint.config->route;
    routed.endpoint = &endpoint;
    co_return co_await endpoint.handle(ex, m, state, scope);
  }

  Endpoint compile(const config::Endpoint& e, const std::string& user_agent) const {
    Endpoint ep;
    ep.config = &e;
    ep.router = &service_->router;
    ep.headers = HeaderFilter::from(e.input_headers);
    ep.query = QueryFilter::from(e.input_query_strings);
    ep.krakend_header = krakend_header_;
    ep.user_agent = user_agent;
    ep.noop = e.output_encoding == "no-op";
    {
      telemetry::TagList<std::string_view> tags;
      tags.add("span.kind", "server");
      tags.add("http.method", e.method);
      tags.add("http.route", e.route);
      ep.span_tags = tags.encoded();
      ep.span_tag_count = static_cast<std::uint32_t>(tags.size());
    }
    const auto ttl = std::chrono::duration_cast<std::chrono::seconds>(e.cache_ttl).count();
    // Lura: any non-zero cache_ttl enables the header, with its whole seconds (500ms -> max-age=0).
    if (e.cache_ttl.count() != 0)
      ep.cache_control = "Cache-Control: public, max-age=" + std::to_string(ttl) + "\r\n";
    std::vector<std::string_view> encodings;
    for (const auto& b : e.backends) {
      BackendRoute r;
      r.config = &b;
      r.url = UrlTemplate::compile(b.url_pattern, e.params);
      r.backend_headers = HeaderFilter::from(b.input_headers);
      r.backend_query = QueryFilter::from(b.input_query_strings);
      r.method = b.method;
      r.span_resource = r.method + ' ' + r.url.normalized;
      telemetry::TagList<std::string_view> tags;
      tags.add("span.kind", "client");
      tags.add("http.method", r.method);
      r.span_tags = tags.encoded();
      r.span_tag_count = static_cast<std::uint32_t>(tags.size());
      r.decodes_body = b.encoding != "no-op";
      for (const auto& h : b.hosts) {
        r.authorities.push_back(h.authority());
        r.targets.emplace_back(h.host, h.port);
      }
      ep.backends.push_back(std::move(r));
      response::BackendShaping shaping;
      if (auto problem = response::parse_backend_shaping(*b.raw, shaping))
        fail(problem->where, problem->field, problem->message);
      ep.shaping.push_back(std::move(shaping));
      encodings.push_back(b.encoding);
    }
    ep.output_encoding = std::string(response::effective_output_encoding(e.output_encoding, encodings));
    const json::Value* extra = e.raw->find("extra_config");
    if (const json::Value* proxy = config::find_namespace(extra, "proxy")) {
      if (const auto* seq = proxy->find("sequential"); seq && seq->is_bool()) ep.sequential = seq->as_bool();
      if (const auto* st = proxy->find("static"))
        if (auto problem = response::parse_static(*st, ep.static_data))
          fail(problem->where, problem->field, problem->message);
      if (const auto* fm = proxy->find("flatmap_filter"))
        if (auto problem = response::parse_flatmap(*fm, ep.flatmap))
          fail(problem->where, problem->field, problem->message);
    }
    return ep;
  }

  [[noreturn]] void fail(const json::Value* where, const std::string& field,
                         const std::string& message) const {
    std::string position;
    if (where && where->offset() != std::string::npos) {
      auto [line, col] = json::line_column(service_->source_text, where->offset());
      position = ": line " + std::to_string(line) + ", column " + std::to_string(col);
    }
    throw config::ConfigError("'" + service_->source_path + "'" + position + ", field '" + field +
                              "': " + message);
  }

  Task<bool> plain(server::Exchange& ex, unsigned status, std::string_view body, std::string_view extra) {
    std::string lines = "Content-Type: text/plain; charset=utf-8\r\n";
    lines.append(extra);
    co_return co_await server::write_response(ex, status, lines, body);
  }

  Task<bool> not_found(server::Exchange& ex) {
    if (service_->router.error_body_404)
      co_return co_await server::write_response(ex, 404,
                                                "Content-Type: application/json; charset=utf-8\r\n" +
                                                    krakend_header_ + "X-Krakend-Completed: false\r\n",
                                                *service_->router.error_body_404);
    co_return co_await server::write_response(
        ex, 404, "Content-Type: text/plain\r\n" + krakend_header_ + "X-Krakend-Completed: false\r\n",
        "404 page not found");
  }

  Task<bool> method_not_allowed(server::Exchange& ex, const std::string& allow) {
    std::string lines = "Allow: " + allow + "\r\n" + krakend_header_ + "X-Krakend-Completed: false\r\n";
    if (service_->router.error_body_405)
      co_return co_await server::write_response(ex, 405,
                                                "Content-Type: application/json; charset=utf-8\r\n" + lines,
                                                *service_->router.error_body_405);
    co_return co_await server::write_response(ex, 405, "Content-Type: text/plain\r\n" + lines,
                                              "405 method not allowed");
  }

  Task<bool> redirect(server::Exchange& ex, unsigned status, const std::string& location) {
    std::string lines = "Location: " + location + "\r\n";
    if (ex.request.method() == http::verb::get || ex.request.method() == http::verb::head) {
      lines += "Content-Type: text/html; charset=utf-8\r\n";
      std::string body = "<a href=\"" + location + "\">" + std::string(server::reason(status)) + "</a>.\n\n";
      co_return co_await server::write_response(ex, status, lines, body);
    }
    co_return co_await server::write_response(ex, status, lines, "");
  }

  std::shared_ptr<const config::Service> service_;
  Options options_;
  std::chrono::steady_clock::time_point started_;
  router::Router router_;
  std::string krakend_header_;
  std::vector<Endpoint> endpoints_;
  int health_handler_ = -2;
};

}  // namespace

std::shared_ptr<server::Handler> make_gateway(std::shared_ptr<const config::Service> service,
                                              Options options) {
  return std::make_shared<Gateway>(std::move(service), std::move(options));
}

}  // namespace gw::proxy

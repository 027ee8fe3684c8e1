// The factory: the whole request path of every endpoint, composed once from the config, in
// KrakenD CE's order (krakend-ce router_engine.go -> handler_factory.go -> proxy_factory.go ->
// backend_factory.go). A stage that is not configured is not added, so it costs nothing.
//
//   engine (every request, before routing)    CORS                              [security/cors]
//                                             security headers, allowed hosts   (#19: security/http)
//   router (per endpoint, before backends)    bot detector                      (#19)
//                                             WAF (AppSec)                      [DD_APPSEC_ENABLED]
//                                             JWT validation                    (#18: auth/validator)
//                                             rate limits                       (#19: qos/ratelimit/router)
//   proxy                                     static data, sequential or concurrent calls, merge,
//                                             flatmap (proxy namespace); no-op streams one backend
//   backend (per backend)                     rate limit, circuit breaker, HTTP cache (#19)
//                                             the call: upstream::Client (HTTP/1.1)
//
// Namespaces that are configured but not built here are refused or warned about by the config
// module (config::load_*), never skipped silently.
#include "proxy/pipeline.h"

#include "proxy/endpoint.h"
#include "proxy/proxy.h"
#include "proxy/stages.h"
#include "telemetry/telemetry.h"

namespace gw::proxy {

namespace {

[[noreturn]] void fail(const config::Service& service, const json::Value* where, const std::string& field,
                       const std::string& message) {
  std::string position;
  if (where && where->offset() != std::string::npos) {
    auto [line, col] = json::line_column(service.source_text, where->offset());
    position = ": line " + std::to_string(line) + ", column " + std::to_string(col);
  }
  throw config::ConfigError("'" + service.source_path + "'" + position + ", field '" + field +
                            "': " + message);
}

// The per-backend part: how to build the request, where to send it, and the stages around the call.
BackendRoute build_backend(const config::Endpoint& e, const config::Backend& b) {
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
  // Backend stages, outermost first: rate limit, circuit breaker, HTTP cache (#19).
  return r;
}

}  // namespace

Endpoint build_endpoint(const config::Service& service, const config::Endpoint& e,
                        const std::string& krakend_version, const std::string& user_agent,
                        const std::shared_ptr<const AppSecStage>& appsec) {
  Endpoint ep;
  ep.config = &e;
  ep.router = &service.router;
  ep.headers = HeaderFilter::from(e.input_headers);
  ep.query = QueryFilter::from(e.input_query_strings);
  ep.krakend_version = krakend_version;
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
  // Lura: any non-zero cache_ttl enables the header, with its whole seconds (500ms -> max-age=0).
  if (e.cache_ttl.count() != 0)
    ep.cache_control = "public, max-age=" +
                       std::to_string(std::chrono::duration_cast<std::chrono::seconds>(e.cache_ttl).count());

  // Router stages, in order: bot detector (#19), WAF, JWT validation (#18), rate limits (#19).
  if (appsec) ep.router_stages.push_back(appsec);

  // The proxy: static data, sequential or concurrent calls, merge, flatmap.
  std::vector<std::string_view> encodings;
  for (const auto& b : e.backends) {
    ep.backends.push_back(build_backend(e, b));
    response::BackendShaping shaping;
    if (auto problem = response::parse_backend_shaping(*b.raw, shaping))
      fail(service, problem->where, problem->field, problem->message);
    ep.shaping.push_back(std::move(shaping));
    encodings.push_back(b.encoding);
  }
  ep.output_encoding = std::string(response::effective_output_encoding(e.output_encoding, encodings));
  // A body that may have to be sent twice (send_body_on_redirect) is kept whole.
  ep.streams_body = ep.noop && !e.backends.empty() && !e.backends[0].send_body_on_redirect;
  const json::Value* extra = e.raw->find("extra_config");
  if (const json::Value* proxy = config::find_namespace(extra, "proxy")) {
    if (const auto* seq = proxy->find("sequential"); seq && seq->is_bool()) ep.sequential = seq->as_bool();
    if (const auto* st = proxy->find("static"))
      if (auto problem = response::parse_static(*st, ep.static_data))
        fail(service, problem->where, problem->field, problem->message);
    if (const auto* fm = proxy->find("flatmap_filter"))
      if (auto problem = response::parse_flatmap(*fm, ep.flatmap))
        fail(service, problem->where, problem->field, problem->message);
  }
  return ep;
}

Pipeline build_pipeline(const config::Service& service, const Options& options) {
  Pipeline p;
  // Engine stages, in order: CORS, then security headers (#19).
  if (service.cors) p.engine.push_back(make_cors_stage(*service.cors, options.logger));
  if (options.waf) p.appsec = make_appsec_stage(options.waf, options.logger, options.metrics);

  const std::string krakend_version =
      "Version " + (service.router.hide_version_header ? std::string("undefined") : options.version);
  const std::string user_agent = "KrakenD Version " + options.version;
  p.endpoints.reserve(service.endpoints.size());
  for (const auto& e : service.endpoints) {
    p.endpoints.push_back(build_endpoint(service, e, krakend_version, user_agent, p.appsec));
    p.endpoints.back().route_id = static_cast<std::uint32_t>(p.endpoints.size() - 1);
  }
  return p;
}

}  // namespace gw::proxy

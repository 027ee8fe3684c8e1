// Private to the proxy module: the stages a request passes through, and the one factory that
// composes them from the config (pipeline.cpp lists the order). A stage that is not configured is
// not in its list, so it costs nothing.
#pragma once

#include <forward_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "router/router.h"
#include "server/server.h"

namespace gw::proxy {

struct Endpoint;
struct Options;
struct RequestScope;
class AppSecStage;

// Holds the header values stages compute for one request until its response is written.
class StageScratch {
 public:
  std::string_view keep(std::string value) { return kept_.emplace_front(std::move(value)); }

 private:
  std::forward_list<std::string> kept_;  // nodes never move: the views stay valid
};

// A stage's own answer, sent instead of going further down the pipeline.
struct Reply {
  unsigned status = 0;
  server::HeaderList headers;  // values are static or kept in the request's StageScratch
  std::string body;
};

// Every request, before routing, like KrakenD's gin middlewares (krakend-ce router_engine.go):
// CORS; later security headers and allowed hosts.
class EngineStage {
 public:
  virtual ~EngineStage() = default;
  // May add fields every response carries (ex.engine_headers); a reply ends the request here.
  virtual std::optional<Reply> on_request(server::Exchange& ex, StageScratch& scratch) const = 0;
};

// One endpoint, before any backend is called (krakend-ce handler_factory.go): bot detector, WAF,
// JWT validation, rate limits, request validation.
class RouterStage {
 public:
  virtual ~RouterStage() = default;
  // `match` is null for a request no endpoint took (404, 405, redirects), which only the WAF sees.
  virtual std::optional<Reply> on_request(server::Exchange& ex, const router::Match* match,
                                          StageScratch& scratch, RequestScope& scope) const = 0;
  // Whether this request's body must be read whole before the stage runs (it inspects it).
  virtual bool needs_body(const server::Exchange& ex) const { return false; }
};

// One backend call (krakend-ce backend_factory.go): rate limit, circuit breaker, HTTP cache.
class BackendStage {
 public:
  virtual ~BackendStage() = default;
  // Before the call: an error text refuses it, and the call fails with that text as KrakenD's would.
  virtual std::optional<std::string> before_call() const = 0;
  // After the call: its response status (0 when none arrived) and whether it failed.
  virtual void after_call(unsigned status, bool failed) const = 0;
};

// Everything the gateway runs, built once from the config.
struct Pipeline {
  std::vector<std::unique_ptr<EngineStage>> engine;
  // The WAF (DD_APPSEC_ENABLED), shared by every endpoint's router stages; also inspects requests no
  // endpoint takes, and reports on every request's span after its response.
  std::shared_ptr<const AppSecStage> appsec;
  std::vector<Endpoint> endpoints;  // in config order; the router maps routes to their index
};

// The factory: composes every stage in KrakenD CE's order. Throws config::ConfigError.
Pipeline build_pipeline(const config::Service& service, const Options& options);

}  // namespace gw::proxy

// Private to the proxy module: the concrete stages the factory (pipeline.cpp) can add.
#pragma once

#include <memory>

#include "config/config.h"
#include "proxy/pipeline.h"

namespace gw::telemetry {
class Logger;
class Metrics;
}
namespace gw::appsec {
class Waf;
}

namespace gw::proxy {

// security/cors (krakend-cors): preflights answered before routing, CORS fields on every response.
// rs/cors's debug lines go to `logger` at DEBUG when the options' debug is on.
std::unique_ptr<EngineStage> make_cors_stage(const config::Cors& options,
                                             std::shared_ptr<telemetry::Logger> logger);

// The WAF (Datadog App & API Protection, docs/datadog-appsec.md): a router stage that inspects each
// request before any backend and answers the ones a blocking rule catches; after the response it
// runs the response-status rules and reports like Datadog's tracers (span tags, trace kept, a log
// line per event, Prometheus counters).
class AppSecStage : public RouterStage {
 public:
  // Tags the request's root span, keeps its trace on an event, logs and counts (appsec_stage.cpp).
  // Call after the response is written and before the root span is finished.
  virtual void finish(server::Exchange& ex, RequestScope& scope, unsigned lane) const = 0;
};
std::shared_ptr<const AppSecStage> make_appsec_stage(std::shared_ptr<const appsec::Waf> waf,
                                                     std::shared_ptr<telemetry::Logger> logger,
                                                     std::shared_ptr<telemetry::Metrics> metrics);

}  // namespace gw::proxy

// The gateway's request path: route, built-in endpoints, and for each configured endpoint the
// pipeline KrakenD would run (no-op streaming, or fan-out -> decode -> shape -> merge -> render).
// Everything is prepared from the config once; handle() only reads it.
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "server/server.h"

namespace gw::appsec {
class Waf;
}
namespace gw::telemetry {
class Metrics;
class Tracer;
class Logger;
}  // namespace gw::telemetry

namespace gw::proxy {

struct Options {
  std::string version = GATEWAY_KRAKEND_VERSION;    // X-Krakend: Version <v>, User-Agent
  std::shared_ptr<telemetry::Metrics> metrics;      // null: no metrics recorded
  std::shared_ptr<const telemetry::Tracer> tracer;  // null or disabled: no spans
  std::shared_ptr<telemetry::Logger> logger;        // null: no access log
  std::shared_ptr<const appsec::Waf> waf;            // null: AppSec off, no WAF stage at all
};

// Throws config::ConfigError when routes conflict (gin would panic at start-up).
std::shared_ptr<server::Handler> make_gateway(std::shared_ptr<const config::Service> service,
                                              Options options);

}  // namespace gw::proxy

// Private to the proxy module: the concrete stages the factory (pipeline.cpp) can add.
#pragma once

#include <memory>

#include "config/config.h"
#include "proxy/pipeline.h"

namespace gw::telemetry {
class Logger;
}

namespace gw::proxy {

// security/cors (krakend-cors): preflights answered before routing, CORS fields on every response.
// rs/cors's debug lines go to `logger` at DEBUG when the options' debug is on.
std::unique_ptr<EngineStage> make_cors_stage(const config::Cors& options,
                                             std::shared_ptr<telemetry::Logger> logger);

}  // namespace gw::proxy

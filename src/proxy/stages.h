// Private to the proxy module: the concrete stages the factory (pipeline.cpp) can add.
#pragma once

#include <memory>

#include "config/config.h"
#include "proxy/pipeline.h"

namespace gw::proxy {

// security/cors (krakend-cors): preflights answered before routing, CORS fields on every response.
std::unique_ptr<EngineStage> make_cors_stage(const config::Cors& options);

}  // namespace gw::proxy

// Private to the config module: the extra_config namespace checks (namespaces.cpp) and the typed
// reads of the namespaces the gateway implements outside the core loader (extra.cpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"
#include "config/reader.h"

namespace gw::config {

// The key a namespace was found under (canonical or legacy) and its value; {"", nullptr} when absent.
std::pair<std::string_view, const json::Value*> find_namespace_entry(const json::Value* extra_config,
                                                                     std::string_view name);

// GATEWAY_ALLOW_UNIMPLEMENTED: true/1 on, false/0/"" or unset off; anything else is a ConfigError.
bool allow_unimplemented(const Environment& env);

// Checks every key of one extra_config object (`prefix` is "" or e.g. "endpoints[2]."): a refused
// namespace throws ConfigError (or, with `allow`, becomes a "NOT ENFORCED: " warning); the rest of the
// unimplemented or unknown ones append a warning.
void check_namespaces(const Reader& r, const json::Value* extra_config, const std::string& prefix,
                      NamespaceScope scope, bool allow, std::vector<std::string>& warnings);

// Top-level keys KrakenD reads that the gateway does not: tls (refused unless disabled), client_tls,
// plugin, async_agent (warned).
void check_top_level(const Reader& r, const json::Value& root, bool allow,
                     std::vector<std::string>& warnings);

// Service-level security/cors; nullopt when absent.
std::optional<Cors> read_cors(const Reader& r, const json::Value* extra_config);

// Service-level telemetry/logging, telemetry/logstash and telemetry/opentelemetry.
Telemetry read_telemetry(const Reader& r, const json::Value* extra_config);

}  // namespace gw::config

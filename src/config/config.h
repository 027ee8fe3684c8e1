// krakend.json ("version": 3) model, loader and validation with KrakenD's defaults.
// Everything is interpreted here, once; the request path only reads these structs.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "json/json.h"

namespace gw::config {

using Duration = std::chrono::nanoseconds;

// A config problem: names the file, the line:column and the JSON path of the field.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::string message) : std::runtime_error(std::move(message)) {}
};

struct UpstreamHost {
  std::string scheme;  // "http" (https is rejected for now: no TLS client yet)
  std::string host;    // name or IPv4 literal
  std::uint16_t port = 80;
  std::string authority() const;  // host[:port] as sent in the Host header
};

struct Backend {
  std::vector<UpstreamHost> hosts;
  std::string url_pattern;                       // leading '/' forced; {param} placeholders kept as written
  std::string method;                            // upper-case; defaults to the endpoint's
  std::string encoding;                          // json (default), safejson, string, xml, no-op (unknown -> json)
  std::vector<std::string> input_headers;        // empty = inherit the endpoint's filter
  std::vector<std::string> input_query_strings;  // empty = inherit the endpoint's filter
  bool return_error_code = false;                // backend/http
  std::string return_error_details;              // backend/http, "" = off
  bool send_body_on_redirect = false;            // backend/http/client: repeat the body on 307/308
  const json::Value* raw = nullptr;              // the backend object (shaping, extra_config)
};

struct Endpoint {
  std::string path;                 // as configured, e.g. /api/chat/{path}
  std::string route;                // gin form used in metrics: /api/chat/:path
  std::string method;               // GET POST PUT PATCH DELETE
  std::vector<std::string> params;  // placeholder names in path order
  Duration timeout{};
  Duration cache_ttl{};
  int concurrent_calls = 1;
  std::vector<std::string> input_headers;        // default {"Content-Type"}; {"*"} = all
  std::vector<std::string> input_query_strings;  // default none; {"*"} = all
  std::string output_encoding;                   // json, json-collection, string, negotiate, no-op, ...
  std::vector<Backend> backends;
  const json::Value* raw = nullptr;  // the endpoint object (extra_config for proxy/static/sequential)
};

struct RouterOptions {
  bool return_error_msg = false;
  bool hide_version_header = false;
  bool disable_health = false;
  std::string health_path = "/__health";
  bool disable_access_log = false;
  std::vector<std::string> logger_skip_paths;  // exact request paths left out of the access log
  bool auto_options = false;
  bool disable_redirect_trailing_slash = false;
  bool disable_redirect_fixed_path = false;
  bool disable_handle_method_not_allowed = false;
  bool disable_path_decoding = false;
  std::optional<std::string> error_body_404;  // encoded JSON
  std::optional<std::string> error_body_405;
};

// security/cors (krakend-cors v2.2.1 on rs/cors): the typed options, parsed once with line:column errors.
// Defaults are krakend-cors's: an absent or empty allow_origins / allow_headers becomes {"*"} (krakend-cors
// fills them in before calling rs/cors; "*" headers = reflect the requested ones); an empty allow_methods
// means rs/cors's default.
struct Cors {
  std::vector<std::string> allow_origins;  // "*" or exact origins, a single '*' wildcard allowed inside
  std::vector<std::string> allow_methods;  // empty: GET, POST, HEAD
  std::vector<std::string> allow_headers;  // {"*"} unless configured
  std::vector<std::string> expose_headers;
  bool allow_credentials = false;
  Duration max_age{};                // 0: no Access-Control-Max-Age
  bool options_passthrough = false;  // preflights also reach the endpoint
  int options_success_status = 204;
  bool allow_private_network = false;
  bool debug = false;
};

// telemetry/logging (service level). Only the fields the gateway uses are kept; the rest are type-checked.
struct Logging {
  std::string level = "INFO";  // DEBUG INFO WARNING (WARN) ERROR CRITICAL, upper-cased
  std::string prefix;
  bool stdout_enabled = true;      // `stdout`
  std::string format = "default";  // default | logstash | custom; telemetry/logstash forces logstash
};

using Attributes = std::vector<std::pair<std::string, std::string>>;  // [{key, value}]

// telemetry/opentelemetry (service level): the parts the gateway serves.
struct OpenTelemetry {
  struct Prometheus {
    std::string host;  // "" = all interfaces
    std::uint16_t port = 9090;
    bool process_metrics = false, go_metrics = false, disable_metrics = false;
  };
  struct Otlp {
    std::string host = "localhost";
    std::uint16_t port = 4318;  // krakend-otel says 4317 (gRPC); only OTLP/HTTP is exported here
    bool use_http = false, disable_traces = false, disable_metrics = false;
  };
  std::string service_name;     // "" = the config's name, else "KrakenD"
  std::string service_version;  // "" = the gateway's version
  std::string deploy_env;
  bool has_prometheus = false;  // exporters.prometheus is present (even empty)
  std::vector<Prometheus> prometheus;
  std::vector<Otlp> otlp;
  Attributes global_metrics_static_attributes;   // layers.global.metrics_static_attributes
  Attributes proxy_static_attributes;            // layers.proxy.static_attributes
  Attributes backend_metrics_static_attributes;  // layers.backend.metrics.static_attributes
  bool backend_detailed_connection = false;      // layers.backend.metrics.detailed_connection
};

struct Telemetry {
  std::optional<Logging> logging;              // absent: INFO, stdout, default format
  std::optional<OpenTelemetry> opentelemetry;  // absent: no metrics listener, no OTLP
};

struct Service {
  std::string source_path;
  std::string source_text;  // kept so later stages can report line:column too
  int version = 0;
  std::string name;
  int port = 8080;
  std::string listen_ip;  // "" = all interfaces
  Duration timeout = std::chrono::seconds(2);
  Duration cache_ttl{};
  std::string output_encoding;
  Duration read_timeout{}, write_timeout{}, idle_timeout{}, read_header_timeout{};
  std::size_t max_header_bytes = 1 << 20;  // Go's DefaultMaxHeaderBytes
  std::size_t max_body_bytes = 64 << 20;   // not in KrakenD CE: a bound on buffered request bodies
  Duration max_shutdown_wait_time{};       // 0 = wait for in-flight requests indefinitely
  std::size_t max_idle_connections_per_host = 250;
  Duration idle_connection_timeout = std::chrono::seconds(90);
  bool debug_endpoint = false;
  bool echo_endpoint = false;
  RouterOptions router;
  std::optional<Cors> cors;  // service extra_config security/cors; absent = no CORS stage
  Telemetry telemetry;
  std::vector<Endpoint> endpoints;
  // Printed by `check` and logged at start-up: skipped endpoints, namespaces not implemented (see
  // namespaces.cpp), and refusals let through by GATEWAY_ALLOW_UNIMPLEMENTED (prefixed "NOT ENFORCED: ").
  std::vector<std::string> warnings;

  std::shared_ptr<const json::Value> document;  // keeps every `raw` pointer alive
  const json::Value* extra_config = nullptr;    // service-level extra_config (may be null)
};

// Where the environment comes from, so tests can inject one.
using Environment = std::map<std::string, std::string>;
Environment process_environment();

// Loads and validates. Throws ConfigError naming file, line:column and the field's JSON path.
Service load_file(const std::string& path, const Environment& env = process_environment());
Service load_text(std::string_view text, const std::string& path, const Environment& env);

// Go duration syntax ("1.5s", "300ms", "1h2m"); nullopt when invalid.
std::optional<Duration> parse_go_duration(std::string_view text);

// Looks up an extra_config namespace, accepting KrakenD's legacy aliases (e.g. "router" ==
// "github_com/luraproject/lura/router/gin"). Null when absent.
const json::Value* find_namespace(const json::Value* extra_config, std::string_view name);

// The extra_config namespaces KrakenD CE and EE understand (namespaces.cpp has the table and why).
enum class NamespaceScope : unsigned { service = 1, endpoint = 2, backend = 4 };
enum class Unimplemented {
  refuse,
  warn
};  // what happens when a namespace is used where it is not implemented
struct NamespaceInfo {
  std::string_view name;  // canonical, e.g. "auth/validator"
  unsigned read_at;       // NamespaceScope bits where KrakenD reads it
  unsigned implemented;   // NamespaceScope bits where this gateway implements it
  Unimplemented otherwise;
  std::string_view what;  // a few words: "JWT validation"
};
// By canonical or legacy name; null when unknown.
const NamespaceInfo* lookup_namespace(std::string_view name);
// The canonical name for a legacy one ("github_com/devopsfaith/krakend-cors" -> "security/cors"); else name.
std::string_view canonical_namespace(std::string_view name);
// The env switch that turns refusals into "NOT ENFORCED" warnings.
inline constexpr std::string_view kAllowUnimplementedEnv = "GATEWAY_ALLOW_UNIMPLEMENTED";

// "/a/{b}/c" -> "/a/:b/c" (only placeholders right after a '/').
std::string to_gin_route(std::string_view path);

}  // namespace gw::config

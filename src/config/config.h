// krakend.json ("version": 3) model, loader and validation with KrakenD's defaults.
// Everything is interpreted here, once; the request path only reads these structs.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
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

// security/cors (krakend-cors on rs/cors): the typed options, parsed once with line:column errors.
// Defaults are krakend-cors's; an empty list means rs/cors's own default for it.
struct Cors {
  std::vector<std::string> allow_origins;    // "*" or exact origins, a single '*' wildcard allowed inside
  std::vector<std::string> allow_methods;    // empty: GET, POST, HEAD
  std::vector<std::string> allow_headers;    // empty: Origin, Accept, Content-Type, X-Requested-With
  std::vector<std::string> expose_headers;
  bool allow_credentials = false;
  Duration max_age{};                        // 0: no Access-Control-Max-Age
  bool options_passthrough = false;          // preflights also reach the endpoint
  int options_success_status = 204;
  bool allow_private_network = false;
  bool debug = false;
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
  std::vector<Endpoint> endpoints;
  std::vector<std::string> warnings;  // e.g. skipped endpoints with unsupported methods

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

// "/a/{b}/c" -> "/a/:b/c" (only placeholders right after a '/').
std::string to_gin_route(std::string_view path);

}  // namespace gw::config

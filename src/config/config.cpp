#include "config/config.h"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "config/extra.h"
#include "config/reader.h"

extern char** environ;

namespace gw::config {

std::string UpstreamHost::authority() const {
  const bool default_port = (scheme == "http" && port == 80) || (scheme == "https" && port == 443);
  return default_port ? host : host + ":" + std::to_string(port);
}

Environment process_environment() {
  Environment env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string_view::npos) env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return env;
}

std::optional<Duration> parse_go_duration(std::string_view s) {
  if (s.empty()) return std::nullopt;
  bool negative = false;
  if (s[0] == '-' || s[0] == '+') {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return Duration{0};
  if (s.empty()) return std::nullopt;
  long double total = 0;
  while (!s.empty()) {
    std::size_t i = 0;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (i == 0) return std::nullopt;
    std::string number(s.substr(0, i));
    if (std::count(number.begin(), number.end(), '.') > 1 || number == ".") return std::nullopt;
    s.remove_prefix(i);
    std::size_t u = 0;
    while (u < s.size() && !std::isdigit(static_cast<unsigned char>(s[u])) && s[u] != '.') ++u;
    std::string_view unit = s.substr(0, u);
    s.remove_prefix(u);
    long double scale;
    if (unit == "ns")
      scale = 1;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs")
      scale = 1e3;
    else if (unit == "ms")
      scale = 1e6;
    else if (unit == "s")
      scale = 1e9;
    else if (unit == "m")
      scale = 60e9;
    else if (unit == "h")
      scale = 3600e9;
    else
      return std::nullopt;  // Go requires a unit on every number but a lone "0"
    total += std::strtold(number.c_str(), nullptr) * scale;
  }
  if (total > 9.2e18L) return std::nullopt;
  auto ns = static_cast<long long>(total);
  return Duration{negative ? -ns : ns};
}

namespace {

// Endpoint paths KrakenD refuses: a '*' followed by something, or a reserved /__debug, /__echo,
// /__health segment.
const std::regex kInvalidEndpoint(R"(^[^/]|\*.|/__(debug|echo|health)(/.*)?$)");
const std::regex kHostPattern(R"(^(https?://)?([a-zA-Z0-9\._\-]+)(:[0-9]{2,6})?/?$)");
const std::regex kSequentialOrJwt(R"(^(resp\d+_.+)?(JWT\.([\w\-\.:/]+))?$)");

bool is_placeholder_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
}

// Placeholders in an endpoint path: "{name}" right after '/', name [a-zA-Z0-9_-]+.
std::vector<std::string> endpoint_params(std::string_view path) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i + 1 < path.size(); ++i) {
    if (path[i] != '/' || path[i + 1] != '{') continue;
    std::size_t j = i + 2;
    while (j < path.size() && is_placeholder_char(path[j])) ++j;
    if (j < path.size() && path[j] == '}' && j > i + 2) out.emplace_back(path.substr(i + 2, j - i - 2));
  }
  return out;
}

// Placeholders in a backend url_pattern: "{x}" anywhere, x in [\w\-\.:/]+.
std::vector<std::string> pattern_params(std::string_view pattern) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '{') continue;
    std::size_t j = i + 1;
    while (j < pattern.size() && (std::isalnum(static_cast<unsigned char>(pattern[j])) ||
                                  std::string_view("_-.:/").find(pattern[j]) != std::string_view::npos))
      ++j;
    if (j < pattern.size() && pattern[j] == '}' && j > i + 1)
      out.emplace_back(pattern.substr(i + 1, j - i - 1));
  }
  return out;
}

std::string force_leading_slash(std::string_view p) {
  if (!p.empty() && p[0] == '/') return std::string(p);
  return "/" + std::string(p);
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// KRAKEND_PORT=9000 -> "port": "9000" on top of the file (values are weakly typed, like koanf+mapstructure).
void apply_env_overrides(json::Value& root, const Environment& env) {
  for (const auto& [key, value] : env) {
    if (key.rfind("KRAKEND_", 0) != 0 || key.size() == 8) continue;
    std::string field = key.substr(8);
    for (auto& c : field) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (field.find('.') != std::string::npos) continue;
    root.set(field, json::Value(value)).set_offset(std::string::npos);
  }
}

// "name:port=host:port,..." rewrites backend hosts at load time (local runs of K8s configs).
std::map<std::string, std::string> host_overrides(const Environment& env, Reader& reader) {
  std::map<std::string, std::string> out;
  auto it = env.find("GATEWAY_HOST_OVERRIDES");
  if (it == env.end()) return out;
  std::stringstream list(it->second);
  std::string item;
  while (std::getline(list, item, ',')) {
    if (item.empty()) continue;
    auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size())
      throw ConfigError("GATEWAY_HOST_OVERRIDES: '" + item + "' is not name:port=host:port");
    out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return out;
}

}  // namespace

std::string to_gin_route(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '{' && i > 0 && path[i - 1] == '/') {
      std::size_t j = i + 1;
      while (j < path.size() && is_placeholder_char(path[j])) ++j;
      if (j < path.size() && path[j] == '}' && j > i + 1) {
        out += ':';
        out.append(path.substr(i + 1, j - i - 1));
        i = j;
        continue;
      }
    }
    out += path[i];
  }
  return out;
}

namespace {

// What to do with a namespace the gateway does not implement (see namespaces.cpp).
struct Policy {
  bool allow = false;  // GATEWAY_ALLOW_UNIMPLEMENTED: refusals become warnings
  std::vector<std::string>* warnings = nullptr;
};

UpstreamHost parse_host(Reader& r, const json::Value& v, const std::string& field,
                        const std::map<std::string, std::string>& overrides, bool sanitize) {
  std::string text = r.string(v, field);
  std::smatch m;
  if (!sanitize) {
    // Accept what the user wrote as long as we can still split scheme://host:port.
    static const std::regex loose(R"(^(https?://)?([^/:]+)(:[0-9]{1,5})?/?$)");
    if (!std::regex_match(text, m, loose)) r.fail(v, field, "host '" + text + "' not valid: invalid host");
  } else if (!std::regex_match(text, m, kHostPattern)) {
    r.fail(v, field, "host '" + text + "' not valid: invalid host");
  }
  UpstreamHost h;
  h.scheme = m[1].matched ? m[1].str().substr(0, m[1].str().size() - 3) : "http";
  h.host = m[2].str();
  h.port = h.scheme == "https" ? 443 : 80;
  if (m[3].matched) {
    long port = std::strtol(m[3].str().c_str() + 1, nullptr, 10);
    if (port <= 0 || port > 65535) r.fail(v, field, "host '" + text + "' has an invalid port");
    h.port = static_cast<std::uint16_t>(port);
  }
  auto o = overrides.find(h.host + ":" + std::to_string(h.port));
  if (o != overrides.end()) {
    auto colon = o->second.rfind(':');
    h.host = o->second.substr(0, colon);
    if (colon != std::string::npos)
      h.port = static_cast<std::uint16_t>(std::atoi(o->second.c_str() + colon + 1));
  }
  if (h.scheme == "https") r.fail(v, field, "https backends are not supported yet (no TLS client): " + text);
  return h;
}

std::vector<std::string> header_list(Reader& r, const json::Value* v, const std::string& field) {
  std::vector<std::string> out = r.string_list(v, field);
  return out;
}

void read_router(Reader& r, const json::Value* ns, RouterOptions& o) {
  if (!ns) return;
  const std::string base = "extra_config.router";
  r.expect_object(*ns, base);
  o.return_error_msg = r.boolean(ns->find("return_error_msg"), base + ".return_error_msg", false);
  o.hide_version_header = r.boolean(ns->find("hide_version_header"), base + ".hide_version_header", false);
  o.disable_health = r.boolean(ns->find("disable_health"), base + ".disable_health", false);
  if (const auto* hp = ns->find("health_path"))
    o.health_path = force_leading_slash(r.string(*hp, base + ".health_path"));
  o.disable_access_log = r.boolean(ns->find("disable_access_log"), base + ".disable_access_log", false);
  o.logger_skip_paths = r.string_list(ns->find("logger_skip_paths"), base + ".logger_skip_paths");
  o.auto_options = r.boolean(ns->find("auto_options"), base + ".auto_options", false);
  o.disable_redirect_trailing_slash = r.boolean(ns->find("disable_redirect_trailing_slash"),
                                                base + ".disable_redirect_trailing_slash", false);
  o.disable_redirect_fixed_path =
      r.boolean(ns->find("disable_redirect_fixed_path"), base + ".disable_redirect_fixed_path", false);
  o.disable_handle_method_not_allowed = r.boolean(ns->find("disable_handle_method_not_allowed"),
                                                  base + ".disable_handle_method_not_allowed", false);
  o.disable_path_decoding =
      r.boolean(ns->find("disable_path_decoding"), base + ".disable_path_decoding", false);
  if (const auto* eb = ns->find("error_body")) {
    r.expect_object(*eb, base + ".error_body");
    if (const auto* b = eb->find("404")) o.error_body_404 = json::encode(*b);
    if (const auto* b = eb->find("405")) o.error_body_405 = json::encode(*b);
  }
}

Backend read_backend(Reader& r, const json::Value& b, const std::string& field, const Endpoint& ep,
                     const std::vector<UpstreamHost>& default_hosts,
                     const std::map<std::string, std::string>& overrides, const Policy& policy) {
  r.expect_object(b, field);
  Backend be;
  be.raw = &b;
  const json::Value* pattern = b.find("url_pattern");
  if (!pattern) r.fail(b, field + ".url_pattern", "missing url_pattern");
  be.url_pattern = force_leading_slash(r.string(*pattern, field + ".url_pattern"));
  be.method = upper(r.string_or(b.find("method"), field + ".method", ep.method));
  be.encoding = r.string_or(b.find("encoding"), field + ".encoding", "json");
  if (ep.output_encoding == "no-op") be.encoding = "no-op";
  bool sanitize = !r.boolean(b.find("disable_host_sanitize"), field + ".disable_host_sanitize", false);
  if (const auto* hosts = b.find("host")) {
    r.expect_array(*hosts, field + ".host");
    for (std::size_t i = 0; i < hosts->as_array().size(); ++i)
      be.hosts.push_back(parse_host(r, hosts->as_array()[i], field + ".host[" + std::to_string(i) + "]",
                                    overrides, sanitize));
  }
  if (be.hosts.empty()) be.hosts = default_hosts;
  if (be.hosts.empty())
    r.fail(b, field + ".host", "no hosts available: set the backend's or the service's host");
  be.input_headers = header_list(r, b.find("input_headers"), field + ".input_headers");
  be.input_query_strings = header_list(r, b.find("input_query_strings"), field + ".input_query_strings");

  // Every placeholder must be an endpoint param (or a sequential / JWT one).
  std::set<std::string> distinct;
  for (const auto& p : pattern_params(be.url_pattern)) {
    bool known = std::find(ep.params.begin(), ep.params.end(), p) != ep.params.end();
    if (!known && !std::regex_match(p, kSequentialOrJwt))
      r.fail(*pattern, field + ".url_pattern",
             "undefined output param '" + p + "'! endpoint: " + ep.method + " " + ep.path +
                 ", backend: " + be.url_pattern);
    if (known) distinct.insert(p);
  }
  if (distinct.size() > ep.params.size())
    r.fail(*pattern, field + ".url_pattern", "input and output params do not match. endpoint: " + ep.path);

  const json::Value* extra = b.find("extra_config");
  if (extra) r.expect_object(*extra, field + ".extra_config");
  check_namespaces(r, extra, field + ".", NamespaceScope::backend, policy.allow, *policy.warnings);
  if (const auto* http = find_namespace(extra, "backend/http")) {
    r.expect_object(*http, field + ".extra_config.backend/http");
    be.return_error_code = r.boolean(http->find("return_error_code"),
                                     field + ".extra_config.backend/http.return_error_code", false);
    be.return_error_details = r.string_or(http->find("return_error_details"),
                                          field + ".extra_config.backend/http.return_error_details", "");
  }
  if (const auto* client = find_namespace(extra, "backend/http/client")) {
    r.expect_object(*client, field + ".extra_config.backend/http/client");
    be.send_body_on_redirect =
        r.boolean(client->find("send_body_on_redirect"),
                  field + ".extra_config.backend/http/client.send_body_on_redirect", false);
  }
  return be;
}

}  // namespace

Service load_text(std::string_view text, const std::string& path, const Environment& env) {
  Reader r(text, path);
  json::ParseError perr;
  auto parsed = json::parse(text, &perr);
  if (!parsed) r.fail_at(perr.offset, "", perr.message);
  if (!parsed->is_object()) r.fail(*parsed, "", "the configuration must be a JSON object");
  apply_env_overrides(*parsed, env);

  Service s;
  s.source_path = path;
  s.source_text = std::string(text);
  s.document = std::make_shared<const json::Value>(std::move(*parsed));
  const json::Value& root = *s.document;

  s.version = static_cast<int>(r.integer(root.find("version"), "version", 0));
  if (s.version != 3)
    r.fail(root.find("version") ? *root.find("version") : root, "version",
           "unsupported version: " + std::to_string(s.version) + " (want: 3)");
  s.name = r.string_or(root.find("name"), "name", "");
  s.port = static_cast<int>(r.integer(root.find("port"), "port", 0));
  if (s.port == 0) s.port = 8080;
  if (s.port < 0 || s.port > 65535)
    r.fail(*root.find("port"), "port", "invalid port " + std::to_string(s.port));
  s.listen_ip = r.string_or(root.find("listen_ip"), "listen_ip", "");
  if (!s.listen_ip.empty()) {
    boost::system::error_code ec;
    boost::asio::ip::make_address(s.listen_ip, ec);
    if (ec) r.fail(*root.find("listen_ip"), "listen_ip", "invalid ip address " + s.listen_ip);
  }
  s.timeout = r.duration(root.find("timeout"), "timeout", Duration{0});
  if (s.timeout.count() <= 0) s.timeout = std::chrono::seconds(2);
  s.cache_ttl = r.duration(root.find("cache_ttl"), "cache_ttl", Duration{0});
  s.output_encoding = r.string_or(root.find("output_encoding"), "output_encoding", "");
  s.read_timeout = r.duration(root.find("read_timeout"), "read_timeout", Duration{0});
  s.write_timeout = r.duration(root.find("write_timeout"), "write_timeout", Duration{0});
  s.idle_timeout = r.duration(root.find("idle_timeout"), "idle_timeout", Duration{0});
  s.read_header_timeout = r.duration(root.find("read_header_timeout"), "read_header_timeout", Duration{0});
  if (auto mhb = r.integer(root.find("max_header_bytes"), "max_header_bytes", 0); mhb > 0)
    s.max_header_bytes = static_cast<std::size_t>(mhb);
  s.max_shutdown_wait_time =
      r.duration(root.find("max_shutdown_wait_time"), "max_shutdown_wait_time", Duration{0});
  if (auto n = r.integer(root.find("max_idle_connections_per_host"), "max_idle_connections_per_host", 0);
      n > 0)
    s.max_idle_connections_per_host = static_cast<std::size_t>(n);
  if (auto d = r.duration(root.find("idle_connection_timeout"), "idle_connection_timeout", Duration{0});
      d.count() > 0)
    s.idle_connection_timeout = d;
  s.debug_endpoint = r.boolean(root.find("debug_endpoint"), "debug_endpoint", false);
  s.echo_endpoint = r.boolean(root.find("echo_endpoint"), "echo_endpoint", false);
  r.boolean(root.find("disable_rest"), "disable_rest", false);

  s.extra_config = root.find("extra_config");
  if (s.extra_config) r.expect_object(*s.extra_config, "extra_config");
  const Policy policy{allow_unimplemented(env), &s.warnings};
  check_top_level(r, root, policy.allow, s.warnings);
  check_namespaces(r, s.extra_config, "", NamespaceScope::service, policy.allow, s.warnings);
  read_router(r, find_namespace(s.extra_config, "router"), s.router);
  s.cors = read_cors(r, s.extra_config);
  s.telemetry = read_telemetry(r, s.extra_config);

  auto overrides = host_overrides(env, r);
  std::vector<UpstreamHost> default_hosts;
  if (const auto* hosts = root.find("host")) {
    r.expect_array(*hosts, "host");
    for (std::size_t i = 0; i < hosts->as_array().size(); ++i)
      default_hosts.push_back(
          parse_host(r, hosts->as_array()[i], "host[" + std::to_string(i) + "]", overrides, true));
  }

  const json::Value* endpoints = root.find("endpoints");
  if (endpoints) r.expect_array(*endpoints, "endpoints");
  const json::Array empty;
  const json::Array& list = endpoints ? endpoints->as_array() : empty;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json::Value& e = list[i];
    const std::string field = "endpoints[" + std::to_string(i) + "]";
    r.expect_object(e, field);
    Endpoint ep;
    ep.raw = &e;
    const json::Value* path = e.find("endpoint");
    if (!path) r.fail(e, field + ".endpoint", "missing endpoint path");
    ep.path = force_leading_slash(r.string(*path, field + ".endpoint"));
    ep.method = upper(r.string_or(e.find("method"), field + ".method", "GET"));
    if (std::regex_search(ep.path, kInvalidEndpoint))
      r.fail(*path, field + ".endpoint",
             "ignoring the '" + ep.method + " " + ep.path + "' endpoint, since it is invalid!!!");
    static const std::set<std::string> supported = {"GET", "POST", "PUT", "PATCH", "DELETE"};
    if (!supported.count(ep.method)) {
      // KrakenD logs and skips such endpoints instead of failing the whole config.
      s.warnings.push_back("[ENDPOINT: " + ep.path + "] Unsupported method " + ep.method + " (" +
                           r.position(e) + ")");
      continue;
    }
    ep.params = endpoint_params(ep.path);
    ep.route = to_gin_route(ep.path);
    ep.timeout = r.duration(e.find("timeout"), field + ".timeout", Duration{0});
    if (ep.timeout.count() <= 0) ep.timeout = s.timeout;
    ep.cache_ttl = r.duration(e.find("cache_ttl"), field + ".cache_ttl", Duration{0});
    if (ep.cache_ttl.count() == 0) ep.cache_ttl = s.cache_ttl;
    ep.concurrent_calls =
        static_cast<int>(r.integer(e.find("concurrent_calls"), field + ".concurrent_calls", 1));
    if (ep.concurrent_calls < 1) ep.concurrent_calls = 1;
    ep.input_headers = header_list(r, e.find("input_headers"), field + ".input_headers");
    if (ep.input_headers.empty()) ep.input_headers = {"Content-Type"};
    ep.input_query_strings = header_list(r, e.find("input_query_strings"), field + ".input_query_strings");
    ep.output_encoding =
        r.string_or(e.find("output_encoding"), field + ".output_encoding", s.output_encoding);
    if (ep.output_encoding.empty()) ep.output_encoding = "json";
    if (const auto* extra = e.find("extra_config")) {
      r.expect_object(*extra, field + ".extra_config");
      check_namespaces(r, extra, field + ".", NamespaceScope::endpoint, policy.allow, s.warnings);
    }

    const json::Value* backends = e.find("backend");
    if (backends) r.expect_array(*backends, field + ".backend");
    if (!backends || backends->as_array().empty())
      r.fail(backends ? *backends : e, field + ".backend",
             "ignoring the '" + ep.method + " " + ep.path + "' endpoint, since it has 0 backends defined!");
    if (ep.output_encoding == "no-op" && backends->as_array().size() > 1)
      r.fail(*backends, field + ".backend",
             "can not use NoOp encoding with more than one backends connected to the same endpoint");
    for (std::size_t j = 0; j < backends->as_array().size(); ++j)
      ep.backends.push_back(read_backend(r, backends->as_array()[j],
                                         field + ".backend[" + std::to_string(j) + "]", ep, default_hosts,
                                         overrides, policy));
    s.endpoints.push_back(std::move(ep));
  }
  return s;
}

Service load_file(const std::string& path, const Environment& env) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("'" + path + "': open " + path + ": no such file or readable");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return load_text(buffer.str(), path, env);
}

}  // namespace gw::config

// Every extra_config namespace KrakenD CE (v2.13: handler/proxy/backend factories, router_engine.go,
// executor.go, cmd/krakend-ce/main.go aliases) and EE (krakend-schema v2.13 *_extra_config.json) reads,
// and what this gateway does with it. Nothing is skipped silently.
//
// Levels: S service, E endpoint, B backend (where KrakenD reads it). Outside those levels KrakenD
// ignores a namespace, so there it only gets a warning.
//
// | implemented            | router (S), proxy (E,B), backend/http (B), backend/http/client (B),
// |                        | security/cors (S), telemetry/logging (S), telemetry/opentelemetry (S),
// |                        | telemetry/logstash (S: logstash lines)
// | REFUSED: protection    | auth/* (validator, signer, api-keys, basic, revoker, client-credentials, gcp,
// | would be missing       | ntlm, aws-sigv4), security/* (cors at E, http, bot-detector, policies),
// |                        | qos/ratelimit/* (also 1.x juju names), qos/circuit-breaker(/http),
// |                        | validation/*, governance/quota|processors (quotas are limits), tls block
// | REFUSED: the endpoint  | backend/* other than http (amqp, pubsub, lambda, graphql, grpc, soap,
// | would answer something | static-filesystem, conditional), workflow, ai/llm, ai/mcp, websocket: without
// | else                   | them the gateway would make a plain HTTP call instead; server/virtualhost
// |                        | (which endpoints a Host sees); modifier/lua-* (scripts often reject
// |                        | requests); modifier/jmespath, response-body, response-body-generator (they
// |                        | filter what reaches the client: without them more data leaks); plugin/*
// |                        | (custom code: ip filters, auth, whole backends)
// | warned                 | telemetry/* not implemented (metrics, influx, gelf, opencensus, newrelic,
// |                        | moesif, ganalytics, instana, opentelemetry-security; opentelemetry at E/B;
// |                        | logging at B), documentation/*, modifier/martian (named by issue #16),
// |                        | request-side modifiers (request-body-generator, body-generator,
// |                        | request-body-extractor, response-headers), qos/http-cache (a cache, not a
// |                        | guard), server/static-filesystem and grpc (unserved paths fail closed), redis
// |                        | (pools for EE components), top-level client_tls (https backends are refused
// |                        | anyway), plugin and async_agent
#include <algorithm>
#include <array>

#include "config/extra.h"

namespace gw::config {

namespace {

constexpr unsigned S = static_cast<unsigned>(NamespaceScope::service);
constexpr unsigned E = static_cast<unsigned>(NamespaceScope::endpoint);
constexpr unsigned B = static_cast<unsigned>(NamespaceScope::backend);
constexpr Unimplemented R = Unimplemented::refuse;
constexpr Unimplemented W = Unimplemented::warn;

constexpr NamespaceInfo kNamespaces[] = {
    // name, read at, implemented at, otherwise, what
    {"router", S, S, W, "router options"},
    {"proxy", E | B, E | B, W, "proxy options"},
    {"backend/http", B, B, W, "backend HTTP options"},
    {"backend/http/client", B, B, W, "backend HTTP client options"},
    {"security/cors", S | E, S, R, "CORS"},
    {"telemetry/logging", S | B, S, W, "logging"},
    {"telemetry/logstash", S, S, W, "logstash log format"},
    {"telemetry/opentelemetry", S | E | B, S, W, "OpenTelemetry per-layer overrides"},

    {"auth/validator", S | E, 0, R, "JWT validation"},
    {"auth/signer", E, 0, R, "JWT signing"},
    {"auth/api-keys", S | E, 0, R, "API key authentication"},
    {"auth/basic", S | E, 0, R, "basic authentication"},
    {"auth/revoker", S, 0, R, "JWT revocation"},
    {"auth/client-credentials", B, 0, R, "OAuth2 client credentials towards the backend"},
    {"auth/gcp", B, 0, R, "GCP authentication towards the backend"},
    {"auth/ntlm", B, 0, R, "NTLM authentication towards the backend"},
    {"auth/aws-sigv4", B, 0, R, "AWS SigV4 signing towards the backend"},
    {"security/http", S | E, 0, R, "security headers and allowed hosts"},
    {"security/bot-detector", S | E, 0, R, "bot detection"},
    {"security/policies", E | B, 0, R, "security policies"},
    {"qos/ratelimit/router", E, 0, R, "endpoint rate limiting"},
    {"qos/ratelimit/router/redis", E, 0, R, "cluster endpoint rate limiting"},
    {"qos/ratelimit/proxy", B, 0, R, "backend rate limiting"},
    {"qos/ratelimit/tiered", S | E, 0, R, "tiered rate limiting"},
    {"qos/ratelimit/service", S, 0, R, "service rate limiting"},
    {"qos/ratelimit/service/redis", S, 0, R, "cluster service rate limiting"},
    {"qos/circuit-breaker", B, 0, R, "circuit breaker"},
    {"qos/circuit-breaker/http", B, 0, R, "HTTP circuit breaker"},
    {"validation/json-schema", E, 0, R, "request JSON-schema validation"},
    {"validation/cel", E | B, 0, R, "CEL validation"},
    {"validation/response-json-schema", E | B, 0, R, "response JSON-schema validation"},
    {"governance/quota", S | E | B, 0, R, "quotas"},
    {"governance/processors", S, 0, R, "quota processors"},

    {"backend/amqp/consumer", B, 0, R, "AMQP consumer backend"},
    {"backend/amqp/producer", B, 0, R, "AMQP producer backend"},
    {"backend/pubsub/publisher", B, 0, R, "pub/sub publisher backend"},
    {"backend/pubsub/subscriber", B, 0, R, "pub/sub subscriber backend"},
    {"backend/pubsub/publisher/kafka", B, 0, R, "Kafka publisher backend"},
    {"backend/pubsub/subscriber/kafka", B, 0, R, "Kafka subscriber backend"},
    {"backend/lambda", B, 0, R, "AWS Lambda backend"},
    {"backend/graphql", B, 0, R, "GraphQL backend"},
    {"backend/grpc", B, 0, R, "gRPC backend"},
    {"backend/soap", B, 0, R, "SOAP backend"},
    {"backend/static-filesystem", B, 0, R, "static filesystem backend"},
    {"backend/conditional", B, 0, R, "conditional backend"},
    {"workflow", B, 0, R, "workflow backend"},
    {"ai/llm", B, 0, R, "LLM backend"},
    {"ai/mcp", S | E, 0, R, "MCP server"},
    {"websocket", E, 0, R, "websocket endpoint"},
    {"server/virtualhost", S, 0, R, "virtual hosts"},
    {"modifier/lua-endpoint", S | E, 0, R, "Lua scripts"},
    {"modifier/lua-proxy", E, 0, R, "Lua scripts"},
    {"modifier/lua-backend", B, 0, R, "Lua scripts"},
    {"modifier/jmespath", E | B, 0, R, "JMESPath response filtering"},
    {"modifier/response-body", E | B, 0, R, "response body rewriting"},
    {"modifier/response-body-generator", E | B, 0, R, "response body templates"},
    {"plugin/http-server", S, 0, R, "server plugins"},
    {"plugin/http-client", B, 0, R, "client plugins"},
    {"plugin/req-resp-modifier", E | B, 0, R, "request/response modifier plugins"},
    {"plugin/middleware", E | B, 0, R, "middleware plugins"},

    {"telemetry/metrics", S, 0, W, "/__stats metrics"},
    {"telemetry/influx", S, 0, W, "InfluxDB metrics"},
    {"telemetry/gelf", S, 0, W, "GELF logging"},
    {"telemetry/opencensus", S, 0, W, "OpenCensus"},
    {"telemetry/newrelic", S, 0, W, "New Relic"},
    {"telemetry/moesif", S, 0, W, "Moesif analytics"},
    {"telemetry/ganalytics", S, 0, W, "Google Analytics"},
    {"telemetry/instana", S, 0, W, "Instana"},
    {"telemetry/opentelemetry-security", S, 0, W, "OpenTelemetry exporter authentication"},
    {"documentation/openapi", S | E, 0, W, "OpenAPI documentation"},
    {"documentation/postman", S | E, 0, W, "Postman documentation"},
    {"modifier/martian", B, 0, W, "Martian request modifiers"},
    {"modifier/request-body-generator", E | B, 0, W, "request body templates"},
    {"modifier/body-generator", B, 0, W, "request body templates"},
    {"modifier/request-body-extractor", S | E, 0, W, "request body extraction"},
    {"modifier/request-body-extractor/early", E, 0, W, "request body extraction"},
    {"modifier/response-headers", S, 0, W, "response header modifiers"},
    {"qos/http-cache", B, 0, W, "backend HTTP cache"},
    {"server/static-filesystem", S, 0, W, "static files"},
    {"grpc", S, 0, W, "gRPC server"},
    {"redis", S, 0, W, "Redis connection pools"},
    {"async/amqp", 0, 0, W, "AMQP async agent"},  // lives in async_agent, not in extra_config
};

// Legacy name -> canonical: CE's aliases, older names the seed accepted, and 1.x rate limit names (CE 2
// ignores those silently; refusing them is the safe reading of what the author meant).
constexpr std::pair<std::string_view, std::string_view> kLegacy[] = {
    {"github_com/devopsfaith/krakend/transport/http/server/handler", "plugin/http-server"},
    {"github.com/devopsfaith/krakend/transport/http/client/executor", "plugin/http-client"},
    {"github.com/devopsfaith/krakend/proxy/plugin", "plugin/req-resp-modifier"},
    {"github.com/devopsfaith/krakend/proxy", "proxy"},
    {"github_com/luraproject/lura/proxy", "proxy"},
    {"github_com/luraproject/lura/router/gin", "router"},
    {"github_com/devopsfaith/krakend/router/gin", "router"},
    {"github.com/devopsfaith/krakend-httpcache", "qos/http-cache"},
    {"github.com/devopsfaith/krakend-circuitbreaker/gobreaker", "qos/circuit-breaker"},
    {"github.com/devopsfaith/krakend-oauth2-clientcredentials", "auth/client-credentials"},
    {"github.com/devopsfaith/krakend-jose/validator", "auth/validator"},
    {"github.com/devopsfaith/krakend-jose/signer", "auth/signer"},
    {"github_com/devopsfaith/bloomfilter", "auth/revoker"},
    {"github_com/devopsfaith/krakend-botdetector", "security/bot-detector"},
    {"github_com/devopsfaith/krakend-httpsecure", "security/http"},
    {"github_com/devopsfaith/krakend-cors", "security/cors"},
    {"github.com/devopsfaith/krakend-cel", "validation/cel"},
    {"github.com/devopsfaith/krakend-jsonschema", "validation/json-schema"},
    {"github.com/devopsfaith/krakend-amqp/agent", "async/amqp"},
    {"github.com/devopsfaith/krakend-amqp/consume", "backend/amqp/consumer"},
    {"github.com/devopsfaith/krakend-amqp/produce", "backend/amqp/producer"},
    {"github.com/devopsfaith/krakend-lambda", "backend/lambda"},
    {"github.com/devopsfaith/krakend-pubsub/publisher", "backend/pubsub/publisher"},
    {"github.com/devopsfaith/krakend-pubsub/subscriber", "backend/pubsub/subscriber"},
    {"github.com/devopsfaith/krakend/transport/http/client/graphql", "backend/graphql"},
    {"github.com/devopsfaith/krakend/http", "backend/http"},
    {"github_com/luraproject/lura/http", "backend/http"},
    {"github_com/devopsfaith/krakend-gelf", "telemetry/gelf"},
    {"github_com/devopsfaith/krakend-gologging", "telemetry/logging"},
    {"github_com/devopsfaith/krakend-logstash", "telemetry/logstash"},
    {"github_com/devopsfaith/krakend-metrics", "telemetry/metrics"},
    {"github_com/letgoapp/krakend-influx", "telemetry/influx"},
    {"github_com/devopsfaith/krakend-opencensus", "telemetry/opencensus"},
    {"github_com/krakend/krakend-otel", "telemetry/opentelemetry"},
    {"github.com/devopsfaith/krakend-lua/router", "modifier/lua-endpoint"},
    {"github.com/devopsfaith/krakend-lua/proxy", "modifier/lua-proxy"},
    {"github.com/devopsfaith/krakend-lua/proxy/backend", "modifier/lua-backend"},
    {"github.com/devopsfaith/krakend-martian", "modifier/martian"},
    {"github.com/devopsfaith/krakend-ratelimit/juju/router", "qos/ratelimit/router"},
    {"github.com/devopsfaith/krakend-ratelimit/juju/proxy", "qos/ratelimit/proxy"},
};

// "github.com/x" and "github_com/x" are both seen in the wild for the same legacy name.
std::string swap_github_prefix(std::string_view name) {
  if (name.rfind("github.com/", 0) == 0) return "github_com/" + std::string(name.substr(11));
  if (name.rfind("github_com/", 0) == 0) return "github.com/" + std::string(name.substr(11));
  return "";
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// The closest known name, when it is close enough to be a typo of it.
std::string_view nearest(std::string_view name) {
  std::string_view best;
  std::size_t best_distance = std::string_view::npos;
  auto consider = [&](std::string_view known) {
    std::size_t d = edit_distance(name, known);
    if (d < best_distance) best_distance = d, best = known;
  };
  for (const auto& ns : kNamespaces) consider(ns.name);
  for (const auto& [legacy, canonical] : kLegacy) consider(legacy);
  const std::size_t limit = std::clamp<std::size_t>(name.size() / 4, 1, 3);
  return best_distance <= limit ? best : std::string_view();
}

std::string levels(unsigned bits) {
  std::string out;
  for (auto [bit, word] : {std::pair{S, "service"}, {E, "endpoint"}, {B, "backend"}})
    if (bits & bit) out += (out.empty() ? "" : ", ") + std::string(word);
  return out.empty() ? "none (async_agent)" : out;
}

}  // namespace

std::string_view canonical_namespace(std::string_view name) {
  for (const auto& [legacy, canonical] : kLegacy)
    if (legacy == name) return canonical;
  std::string swapped = swap_github_prefix(name);
  if (!swapped.empty())
    for (const auto& [legacy, canonical] : kLegacy)
      if (legacy == swapped) return canonical;
  return name;
}

const NamespaceInfo* lookup_namespace(std::string_view name) {
  std::string_view canonical = canonical_namespace(name);
  for (const auto& ns : kNamespaces)
    if (ns.name == canonical) return &ns;
  return nullptr;
}

std::pair<std::string_view, const json::Value*> find_namespace_entry(const json::Value* extra_config,
                                                                     std::string_view name) {
  if (!extra_config || !extra_config->is_object()) return {"", nullptr};
  if (const auto* v = extra_config->find(name)) return {name, v};
  for (const auto& [legacy, canonical] : kLegacy) {
    if (canonical != name) continue;
    if (const auto* v = extra_config->find(legacy)) return {legacy, v};
    // The other spelling of the prefix: lookup_namespace accepts it, so it must be read too.
    for (const auto& [key, v] : extra_config->as_object())
      if (key == swap_github_prefix(legacy)) return {key, &v};
  }
  return {"", nullptr};
}

const json::Value* find_namespace(const json::Value* extra_config, std::string_view name) {
  return find_namespace_entry(extra_config, name).second;
}

bool allow_unimplemented(const Environment& env) {
  auto it = env.find(std::string(kAllowUnimplementedEnv));
  if (it == env.end()) return false;
  std::string v = it->second;
  for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (v == "true" || v == "1") return true;
  if (v == "false" || v == "0" || v.empty()) return false;
  throw ConfigError(std::string(kAllowUnimplementedEnv) + ": expected true or false, got '" + it->second +
                    "'");
}

void check_namespaces(const Reader& r, const json::Value* extra_config, const std::string& prefix,
                      NamespaceScope scope, bool allow, std::vector<std::string>& warnings) {
  if (!extra_config || !extra_config->is_object()) return;
  const unsigned level = static_cast<unsigned>(scope);
  for (const auto& [key, value] : extra_config->as_object()) {
    if (!key.empty() && std::string_view("@$_#").find(key[0]) != std::string_view::npos)
      continue;  // the schema's comment keys
    const std::string field = prefix + "extra_config." + key;
    const NamespaceInfo* ns = lookup_namespace(key);
    std::string name = "'" + key + "'";
    if (ns && ns->name != key) name += " (= '" + std::string(ns->name) + "')";
    if (!ns) {
      std::string_view near = nearest(key);
      warnings.push_back(r.locate(value, field) + "unknown namespace " + name +
                         (near.empty() ? "" : " (did you mean '" + std::string(near) + "'?)") + "; ignored");
    } else if (ns->implemented & level) {
      continue;
    } else if (!(ns->read_at & level)) {
      warnings.push_back(r.locate(value, field) + "namespace " + name + " is not read at the " +
                         levels(level) + " level (KrakenD reads it at: " + levels(ns->read_at) +
                         "); ignored");
    } else if (ns->otherwise == Unimplemented::warn) {
      warnings.push_back(r.locate(value, field) + "namespace " + name + " (" + std::string(ns->what) +
                         ") is not implemented by this gateway; ignored");
    } else if (allow) {
      warnings.push_back("NOT ENFORCED: " + r.locate(value, field) + "namespace " + name + " (" +
                         std::string(ns->what) + ") is not implemented; " +
                         std::string(kAllowUnimplementedEnv) + "=true lets the gateway serve WITHOUT it");
    } else {
      r.fail(value, field,
             "namespace " + name + " (" + std::string(ns->what) +
                 ") is not implemented by this gateway, and serving without it would not be what the "
                 "configuration asks for; remove it, or set " +
                 std::string(kAllowUnimplementedEnv) + "=true to start without it");
    }
  }
}

void check_top_level(const Reader& r, const json::Value& root, bool allow,
                     std::vector<std::string>& warnings) {
  if (const json::Value* tls = root.find("tls"); tls && !tls->is_null()) {
    r.expect_object(*tls, "tls");
    if (!r.boolean(tls->find("disabled"), "tls.disabled", false)) {
      const std::string what =
          "TLS termination ('tls') is not implemented: the gateway would serve plain HTTP";
      if (!allow)
        r.fail(*tls, "tls",
               what + "; remove it (or set \"disabled\": true), or set " +
                   std::string(kAllowUnimplementedEnv) + "=true to start without it");
      warnings.push_back("NOT ENFORCED: " + r.locate(*tls, "tls") + what + "; " +
                         std::string(kAllowUnimplementedEnv) + "=true lets it through");
    }
  }
  const std::pair<const char*, const char*> warned[] = {
      {"client_tls", "client TLS options are not implemented (https backends are refused anyway)"},
      {"plugin", "Go plugins are not loaded (namespaces that use them are refused)"},
      {"async_agent", "async agents are not implemented: no queue is consumed"},
  };
  for (const auto& [key, what] : warned)
    if (const json::Value* v = root.find(key); v && !v->is_null())
      warnings.push_back(r.locate(*v, key) + what + "; ignored");
}

}  // namespace gw::config

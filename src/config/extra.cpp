// Typed reads of security/cors and the telemetry namespaces: a bad value is a ConfigError with
// line:column and JSON path, never a silent default.
#include "config/extra.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace gw::config {

namespace {

const json::Value* object_or_null(const Reader& r, const json::Value* v, const std::string& field) {
  if (!v || v->is_null()) return nullptr;
  r.expect_object(*v, field);
  return v;
}

std::uint16_t port(const Reader& r, const json::Value* v, const std::string& field, std::uint16_t fallback) {
  long long n = r.integer(v, field, 0);
  if (n == 0) return fallback;  // mapstructure's zero value: the default applies
  if (n < 0 || n > 65535) r.fail(*v, field, "invalid port " + std::to_string(n) + " (want 1-65535)");
  return static_cast<std::uint16_t>(n);
}

// [{"key": k, "value": v}, ...]; entries with an empty key are skipped, as krakend-otel does.
Attributes attributes(const Reader& r, const json::Value* v, const std::string& field) {
  Attributes out;
  if (!v || v->is_null()) return out;
  r.expect_array(*v, field);
  for (std::size_t i = 0; i < v->as_array().size(); ++i) {
    const json::Value& item = v->as_array()[i];
    const std::string f = field + "[" + std::to_string(i) + "]";
    r.expect_object(item, f);
    std::string key = r.string_or(item.find("key"), f + ".key", "");
    std::string value = r.string_or(item.find("value"), f + ".value", "");
    if (!key.empty()) out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

const json::Value* child(const Reader& r, const json::Value* obj, std::string_view key,
                         const std::string& field) {
  return obj ? object_or_null(r, obj->find(key), field) : nullptr;
}

void read_exporters(const Reader& r, const json::Value& otel, const std::string& base, OpenTelemetry& o) {
  const json::Value* exporters = child(r, &otel, "exporters", base + ".exporters");
  if (!exporters) return;
  if (const json::Value* list = exporters->find("prometheus"); list && !list->is_null()) {
    const std::string f = base + ".exporters.prometheus";
    r.expect_array(*list, f);
    o.has_prometheus = true;
    for (std::size_t i = 0; i < list->as_array().size(); ++i) {
      const json::Value& e = list->as_array()[i];
      const std::string ef = f + "[" + std::to_string(i) + "]";
      r.expect_object(e, ef);
      OpenTelemetry::Prometheus p;
      p.host = r.string_or(e.find("host"), ef + ".host", "");
      p.port = port(r, e.find("port"), ef + ".port", 9090);
      p.process_metrics = r.boolean(e.find("process_metrics"), ef + ".process_metrics", false);
      p.go_metrics = r.boolean(e.find("go_metrics"), ef + ".go_metrics", false);
      p.disable_metrics = r.boolean(e.find("disable_metrics"), ef + ".disable_metrics", false);
      o.prometheus.push_back(std::move(p));
    }
  }
  if (const json::Value* list = exporters->find("otlp"); list && !list->is_null()) {
    const std::string f = base + ".exporters.otlp";
    r.expect_array(*list, f);
    for (std::size_t i = 0; i < list->as_array().size(); ++i) {
      const json::Value& e = list->as_array()[i];
      const std::string ef = f + "[" + std::to_string(i) + "]";
      r.expect_object(e, ef);
      OpenTelemetry::Otlp x;
      x.host = r.string_or(e.find("host"), ef + ".host", "localhost");
      if (x.host.empty()) x.host = "localhost";
      x.port = port(r, e.find("port"), ef + ".port", 4318);
      x.use_http = r.boolean(e.find("use_http"), ef + ".use_http", false);
      x.disable_traces = r.boolean(e.find("disable_traces"), ef + ".disable_traces", false);
      x.disable_metrics = r.boolean(e.find("disable_metrics"), ef + ".disable_metrics", false);
      o.otlp.push_back(std::move(x));
    }
  }
}

OpenTelemetry read_opentelemetry(const Reader& r, const json::Value& otel, const std::string& base) {
  r.expect_object(otel, base);
  OpenTelemetry o;
  o.service_name = r.string_or(otel.find("service_name"), base + ".service_name", "");
  o.service_version = r.string_or(otel.find("service_version"), base + ".service_version", "");
  o.deploy_env = r.string_or(otel.find("deploy_env"), base + ".deploy_env", "");
  read_exporters(r, otel, base, o);
  const std::string lb = base + ".layers";
  const json::Value* layers = child(r, &otel, "layers", lb);
  const json::Value* global = child(r, layers, "global", lb + ".global");
  const json::Value* proxy = child(r, layers, "proxy", lb + ".proxy");
  const json::Value* backend = child(r, layers, "backend", lb + ".backend");
  const json::Value* backend_metrics = child(r, backend, "metrics", lb + ".backend.metrics");
  if (global)
    o.global_metrics_static_attributes =
        attributes(r, global->find("metrics_static_attributes"), lb + ".global.metrics_static_attributes");
  if (proxy)
    o.proxy_static_attributes =
        attributes(r, proxy->find("static_attributes"), lb + ".proxy.static_attributes");
  if (backend_metrics) {
    const std::string mb = lb + ".backend.metrics";
    o.backend_metrics_static_attributes =
        attributes(r, backend_metrics->find("static_attributes"), mb + ".static_attributes");
    o.backend_detailed_connection =
        r.boolean(backend_metrics->find("detailed_connection"), mb + ".detailed_connection", false);
  }
  return o;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

Logging read_logging(const Reader& r, const json::Value& v, const std::string& base) {
  r.expect_object(v, base);
  Logging l;
  if (const json::Value* level = v.find("level"); level && !level->is_null()) {
    static const std::set<std::string> levels = {"DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL"};
    l.level = upper(r.string(*level, base + ".level"));
    if (!levels.count(l.level))
      r.fail(*level, base + ".level",
             "unknown log level '" + l.level + "' (want DEBUG, INFO, WARNING, ERROR or CRITICAL)");
  }
  l.prefix = r.string_or(v.find("prefix"), base + ".prefix", "");
  l.stdout_enabled = r.boolean(v.find("stdout"), base + ".stdout", true);
  if (const json::Value* format = v.find("format"); format && !format->is_null()) {
    l.format = r.string(*format, base + ".format");
    if (l.format != "default" && l.format != "logstash" && l.format != "custom")
      r.fail(*format, base + ".format",
             "unknown format '" + l.format + "' (want default, logstash or custom)");
  }
  // Not used (no syslog; custom lines are JSON too), but a wrong type is still an error.
  r.boolean(v.find("syslog"), base + ".syslog", false);
  r.string_or(v.find("syslog_facility"), base + ".syslog_facility", "");
  r.string_or(v.find("custom_format"), base + ".custom_format", "");
  return l;
}

}  // namespace

std::optional<Cors> read_cors(const Reader& r, const json::Value* extra_config) {
  auto [key, v] = find_namespace_entry(extra_config, "security/cors");
  if (!v) return std::nullopt;
  const std::string base = "extra_config." + std::string(key);
  r.expect_object(*v, base);
  Cors c;
  c.allow_origins = r.string_list(v->find("allow_origins"), base + ".allow_origins");
  if (c.allow_origins.empty()) c.allow_origins = {"*"};  // krakend-cors's default
  c.allow_methods = r.string_list(v->find("allow_methods"), base + ".allow_methods");
  c.allow_headers = r.string_list(v->find("allow_headers"), base + ".allow_headers");
  if (c.allow_headers.empty()) c.allow_headers = {"*"};  // krakend-cors's default
  c.expose_headers = r.string_list(v->find("expose_headers"), base + ".expose_headers");
  c.allow_credentials = r.boolean(v->find("allow_credentials"), base + ".allow_credentials", false);
  c.max_age = r.duration(v->find("max_age"), base + ".max_age", Duration{0});
  c.options_passthrough = r.boolean(v->find("options_passthrough"), base + ".options_passthrough", false);
  const json::Value* status = v->find("options_success_status");
  long long s = r.integer(status, base + ".options_success_status", 0);
  if (s == 0) s = 204;  // rs/cors's default for a zero value
  if (s < 100 || s > 599)
    r.fail(*status, base + ".options_success_status", "invalid HTTP status " + std::to_string(s));
  c.options_success_status = static_cast<int>(s);
  c.allow_private_network =
      r.boolean(v->find("allow_private_network"), base + ".allow_private_network", false);
  c.debug = r.boolean(v->find("debug"), base + ".debug", false);
  return c;
}

Telemetry read_telemetry(const Reader& r, const json::Value* extra_config) {
  Telemetry t;
  if (auto [key, v] = find_namespace_entry(extra_config, "telemetry/logging"); v && !v->is_null())
    t.logging = read_logging(r, *v, "extra_config." + std::string(key));
  if (auto [key, v] = find_namespace_entry(extra_config, "telemetry/logstash"); v && !v->is_null()) {
    const std::string base = "extra_config." + std::string(key);
    r.expect_object(*v, base);
    // krakend-logstash wraps the telemetry/logging logger; without that namespace CE falls back to its
    // default logger, so logstash alone changes nothing.
    if (r.boolean(v->find("enabled"), base + ".enabled", true) && t.logging) t.logging->format = "logstash";
  }
  if (auto [key, v] = find_namespace_entry(extra_config, "telemetry/opentelemetry"); v && !v->is_null())
    t.opentelemetry = read_opentelemetry(r, *v, "extra_config." + std::string(key));
  return t;
}

}  // namespace gw::config

#include "app/observability.h"

#include <pthread.h>

#include <boost/asio/executor_work_guard.hpp>

namespace gw::app {

Observability::Observability(const config::Service& service, unsigned workers, const std::string& version) {
  const config::OpenTelemetry no_otel;
  const config::OpenTelemetry& otel =
      service.telemetry.opentelemetry ? *service.telemetry.opentelemetry : no_otel;
  const std::string service_name = !otel.service_name.empty() ? otel.service_name
                                   : service.name.empty()     ? "KrakenD"
                                                              : service.name;

  // --- metrics: one Prometheus registry, served on every configured exporter port.
  if (otel.has_prometheus) {
    telemetry::MetricsConfig mc;
    mc.service_name = service_name;
    mc.service_version = otel.service_version.empty() ? version : otel.service_version;
    mc.deploy_env = otel.deploy_env;
    mc.workers = workers;
    mc.server_static_attributes = otel.global_metrics_static_attributes;
    mc.proxy_static_attributes = otel.proxy_static_attributes;
    const auto& backend_attrs = otel.backend_metrics_static_attributes;
    mc.detailed_connection = otel.backend_detailed_connection;
    bool process_metrics = false, go_metrics = false;
    for (const auto& exporter : otel.prometheus) {
      if (exporter.disable_metrics) continue;
      prometheus_.push_back({exporter.host, exporter.port});
      process_metrics = process_metrics || exporter.process_metrics;
      go_metrics = go_metrics || exporter.go_metrics;
    }
    mc.process_metrics = process_metrics;
    mc.go_metrics = go_metrics;
    for (const auto& e : service.endpoints) {
      telemetry::RouteDesc route{e.route, e.method, {}};
      for (const auto& b : e.backends) {
        const auto& h = b.hosts.front();
        route.backends.push_back({b.method, telemetry::normalize_url_pattern(b.url_pattern),
                                  h.scheme + "://" + h.host + ":" + std::to_string(h.port), backend_attrs});
      }
      mc.routes.push_back(std::move(route));
    }
    if (!prometheus_.empty()) metrics = std::make_shared<telemetry::Metrics>(std::move(mc));
  }

  // --- logging: JSON lines on stdout, shaped by telemetry/logging, correlated by DD_LOGS_INJECTION.
  telemetry::LoggingConfig lc;
  if (const auto& logging = service.telemetry.logging) {
    if (auto level = telemetry::parse_log_level(logging->level)) lc.level = *level;
    lc.prefix = logging->prefix;
    lc.stdout_enabled = logging->stdout_enabled;
    lc.format = logging->format;
  }
  lc.access_log = !service.router.disable_access_log;
  lc.apply_env();
  telemetry::TracerConfig tc = telemetry::TracerConfig::from_env();
  if (lc.dd_service.empty()) lc.dd_service = tc.service;          // the service the spans report
  logger = std::make_shared<telemetry::Logger>(lc, workers + 1);  // the last lane is the main thread's

  // --- tracing: Datadog agent when DD_TRACE_ENABLED=true, else OTLP/HTTP when configured.
  telemetry::ServiceInfo info{tc.service, tc.env, tc.version};
  telemetry::ExporterOptions eo;
  eo.lanes = workers;
  if (tc.enabled) {
    auto agent = telemetry::Endpoint::datadog_from_env();
    trace_target_ = agent.unix_path.empty() ? "datadog agent " + agent.host + ":" + std::to_string(agent.port)
                                            : "datadog agent unix:" + agent.unix_path;
    exporter_ = telemetry::make_datadog_exporter(agent, info, eo);
  } else {
    for (const auto& e : otel.otlp) {
      if (!e.use_http || e.disable_traces) continue;
      telemetry::Endpoint collector;
      collector.host = e.host;
      collector.port = e.port;
      info.service = service_name;
      tc.service = service_name;
      tc.enabled = true;
      trace_target_ = "otlp/http " + collector.host + ":" + std::to_string(collector.port);
      exporter_ = telemetry::make_otlp_http_exporter(collector, info, eo);
      break;
    }
  }
  if (exporter_) {
    tracer = std::make_shared<telemetry::Tracer>(tc, exporter_);
    if (metrics) {
      auto exporter = exporter_;
      metrics->add_extra({"api_gateway_trace_spans_dropped_total",
                          "Spans dropped because the agent was slow, down or the queue full.", "counter",
                          [exporter] { return static_cast<double>(exporter->dropped_spans()); }});
    }
  }
  if (metrics) {
    auto log = logger;
    metrics->add_extra({"api_gateway_log_lines_dropped_total",
                        "Log lines dropped because stdout could not keep up.", "counter",
                        [log] { return static_cast<double>(log->dropped_lines()); }});
  }
}

bool Observability::start() {
  bool ok = true;
  for (const auto& p : prometheus_) {
    boost::system::error_code ec;
    auto server = telemetry::MetricsServer::start(metrics_io_, p.host, p.port, *metrics, ec);
    if (!server) {
      logger->log(0, telemetry::LogLevel::error, "metrics listener failed",
                  {{"port", static_cast<int>(p.port)}, {"error", ec.message()}});
      ok = false;
      continue;
    }
    metrics_servers_.push_back(std::move(server));
  }
  if (!metrics_servers_.empty())
    metrics_thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "gw-metrics");
      auto guard = boost::asio::make_work_guard(metrics_io_);
      metrics_io_.run();
    });
  return ok;
}

void Observability::stop() {
  for (auto& s : metrics_servers_) s->stop();
  metrics_io_.stop();
  if (metrics_thread_.joinable()) metrics_thread_.join();
  if (exporter_) exporter_->shutdown();
  if (logger) logger->flush();
}

Observability::~Observability() { stop(); }

std::string Observability::summary() const {
  std::string s = "metrics: ";
  if (prometheus_.empty()) s += "off";
  for (std::size_t i = 0; i < prometheus_.size(); ++i)
    s += (i ? "," : "") + std::string(":") + std::to_string(prometheus_[i].port) + "/metrics";
  s += "; traces: " + (trace_target_.empty() ? std::string("off") : trace_target_);
  return s;
}

}  // namespace gw::app

// Builds metrics, tracing and logging from the typed telemetry config (config::Telemetry) and the DD_*
// environment, and owns their background threads.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <thread>

#include "config/config.h"
#include "telemetry/telemetry.h"

namespace gw::app {

class Observability {
 public:
  // Reads only service.telemetry (validated by the config module) and the DD_* environment.
  Observability(const config::Service& service, unsigned workers, const std::string& version);
  ~Observability();

  std::shared_ptr<telemetry::Metrics> metrics;      // null unless a prometheus exporter is configured
  std::shared_ptr<const telemetry::Tracer> tracer;  // null unless DD_TRACE_ENABLED or an OTLP exporter
  std::shared_ptr<telemetry::Logger> logger;        // always: JSON lines on stdout

  // Starts the /metrics listener(s); returns false (and logs) when a port cannot be bound — KrakenD
  // only logs that too.
  bool start();
  // Flushes spans and log lines; stops the metrics listener.
  void stop();

  std::string summary() const;  // for the start-up log line

 private:
  struct PrometheusExporter {
    std::string host;
    std::uint16_t port = 9090;
  };
  std::vector<PrometheusExporter> prometheus_;
  std::shared_ptr<telemetry::SpanExporter> exporter_;
  boost::asio::io_context metrics_io_{1};
  std::vector<std::unique_ptr<telemetry::MetricsServer>> metrics_servers_;
  std::thread metrics_thread_;
  std::string trace_target_;
};

}  // namespace gw::app

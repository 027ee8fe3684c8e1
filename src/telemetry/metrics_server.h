// GET /metrics over HTTP/1.1 (Beast) on an io_context the caller owns and runs on its own thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "telemetry/metrics.h"

namespace gw::telemetry {

class MetricsServer {
 public:
  // Binds host:port (host "" = all IPv4 interfaces, port 0 = ephemeral) and starts accepting on ioc.
  // Returns nullptr with ec set when the address cannot be bound.
  static std::unique_ptr<MetricsServer> start(boost::asio::io_context& ioc, const std::string& host,
                                              std::uint16_t port, const Metrics& metrics,
                                              boost::system::error_code& ec);
  ~MetricsServer();
  std::uint16_t port() const;
  // Stops accepting; safe from any thread. Open connections end when the io_context stops.
  void stop();

  struct State;

 private:
  explicit MetricsServer(std::shared_ptr<State> s) : state_(std::move(s)) {}
  std::shared_ptr<State> state_;
};

}  // namespace gw::telemetry

// security/cors as an engine stage: gin runs krakend-cors's middleware for every request, matched
// route or not, so it runs here before routing. The policy itself is the cors module's.
#include <boost/beast/core/string.hpp>

#include "cors/cors.h"
#include "proxy/stages.h"
#include "telemetry/telemetry.h"

namespace gw::proxy {

namespace {

namespace http = boost::beast::http;

class CorsStage final : public EngineStage {
 public:
  CorsStage(const config::Cors& options, std::shared_ptr<telemetry::Logger> logger)
      : policy_(options), logger_(options.debug ? std::move(logger) : nullptr) {}

  std::optional<Reply> on_request(server::Exchange& ex, StageScratch& scratch) const override {
    const server::Request& req = ex.request;
    cors::RequestView view;
    view.method = req.method_string();
    if (auto it = req.find(http::field::origin); it != req.end()) {
      view.has_origin = true;
      view.origin = it->value();
    }
    if (auto it = req.find(http::field::access_control_request_method); it != req.end())
      view.request_method = it->value();
    // Several Access-Control-Request-Headers lines are one list, as Go's Header.Values joins them.
    std::string joined;
    for (auto [it, end] = req.equal_range(http::field::access_control_request_headers); it != end; ++it) {
      if (!joined.empty()) joined += ',';
      joined.append(it->value());
    }
    view.request_headers = joined;
    if (auto it = req.find("Access-Control-Request-Private-Network"); it != req.end())
      view.request_private_network = boost::beast::iequals(it->value(), "true");

    cors::Outcome outcome = policy_.evaluate(view);
    if (logger_ && !outcome.debug.empty()) log_debug(ex.worker.index, outcome.debug);
    server::HeaderList* target = &ex.engine_headers;
    std::optional<Reply> reply;
    if (outcome.answer_now) {
      reply.emplace();
      reply->status = outcome.status;
      target = &reply->headers;
    }
    for (auto& h : outcome.headers)
      target->push_back({scratch.keep(std::move(h.name)), scratch.keep(std::move(h.value))});
    return reply;
  }

 private:
  // KrakenD logs rs/cors's lines at DEBUG, each as "[CORS] <line>".
  void log_debug(unsigned lane, std::string_view lines) const {
    if (!logger_->enabled(telemetry::LogLevel::debug)) return;
    for (std::size_t start = 0; start < lines.size();) {
      const std::size_t end = std::min(lines.find('\n', start), lines.size());
      logger_->log(lane, telemetry::LogLevel::debug,
                   "[CORS] " + std::string(lines.substr(start, end - start)));
      start = end + 1;
    }
  }

  cors::Policy policy_;
  std::shared_ptr<telemetry::Logger> logger_;  // null unless the options' debug is on
};

}  // namespace

std::unique_ptr<EngineStage> make_cors_stage(const config::Cors& options,
                                             std::shared_ptr<telemetry::Logger> logger) {
  return std::make_unique<CorsStage>(options, std::move(logger));
}

}  // namespace gw::proxy

// The WAF as a router stage (DD_APPSEC_ENABLED): inspection before any backend, blocking, and the
// reporting Datadog's tracers do (docs/datadog-appsec.md sections 8 and 9), plus a log line per event
// and Prometheus counters. Built only when AppSec is on: off, the pipeline has no such stage.
#include <atomic>
#include <boost/beast/core/string.hpp>

#include "appsec/appsec.h"
#include "proxy/endpoint.h"
#include "proxy/stages.h"
#include "telemetry/telemetry.h"

namespace gw::proxy {

namespace {

namespace http = boost::beast::http;

// Request headers Datadog's tracers put on a span with an event (http.request.headers.<name>).
constexpr std::string_view kCollectedHeaders[] = {"accept",
                                                  "accept-encoding",
                                                  "accept-language",
                                                  "cf-connecting-ip",
                                                  "cf-connecting-ipv6",
                                                  "content-encoding",
                                                  "content-language",
                                                  "content-length",
                                                  "content-type",
                                                  "fastly-client-ip",
                                                  "forwarded",
                                                  "forwarded-for",
                                                  "host",
                                                  "true-client-ip",
                                                  "user-agent",
                                                  "via",
                                                  "x-client-ip",
                                                  "x-cluster-client-ip",
                                                  "x-forwarded",
                                                  "x-forwarded-for",
                                                  "x-real-ip"};

// Per worker: written by its thread only, read by the scraper.
struct alignas(64) LaneCounters {
  std::atomic<std::uint64_t> inspected{0}, blocked{0}, timeouts{0};
  std::unique_ptr<std::atomic<std::uint64_t>[]> events;  // by rule type index
  void add(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
};

bool parsable_body(const server::Request& req) {
  auto it = req.find(http::field::content_type);
  if (it == req.end()) return false;
  std::string_view type = it->value();
  type = type.substr(0, type.find(';'));
  auto has = [&](std::string_view s) { return boost::beast::iequals(type.substr(0, s.size()), s); };
  return has("application/json") || has("application/x-www-form-urlencoded") || has("multipart/form-data") ||
         (type.size() > 5 && boost::beast::iequals(type.substr(type.size() - 5), "+json"));
}

class AppSec final : public AppSecStage {
 public:
  AppSec(std::shared_ptr<const appsec::Waf> waf, std::shared_ptr<telemetry::Logger> logger,
         std::shared_ptr<telemetry::Metrics> metrics)
      : waf_(std::move(waf)),
        logger_(std::move(logger)),
        keep_limiter_(waf_->settings().trace_rate_limit),
        first_span_(std::make_unique<std::atomic<bool>[]>(64)) {
    for (std::size_t i = 0; i < 64; ++i) first_span_[i] = true;
    if (metrics) register_metrics(*metrics);
  }

  bool needs_body(const server::Exchange& ex) const override { return parsable_body(ex.request); }

  std::optional<Reply> on_request(server::Exchange& ex, const router::Match* match, StageScratch& scratch,
                                  RequestScope& scope) const override {
    appsec::RequestView view;
    view.method = ex.request.method_string();
    view.target = ex.request.target();
    view.peer_ip = ex.peer_ip;
    view.headers.reserve(16);
    for (const auto& f : ex.request) view.headers.push_back({f.name_string(), f.value()});
    if (match)
      for (std::size_t i = 0; i < match->param_count; ++i)
        view.path_params.push_back({match->params[i].first, match->params[i].second});
    if (!ex.body) view.body = ex.request.body();
    scope.appsec.emplace(waf_->inspect_request(view));
    appsec::Inspection& found = *scope.appsec;
    if (found.has_events()) keep_trace(scope);
    if (found.action.kind == appsec::Action::Kind::none) return std::nullopt;
    auto accept = ex.request.find(http::field::accept);
    appsec::BlockResponse block = appsec::block_response(
        found.action, accept == ex.request.end() ? std::string_view() : std::string_view(accept->value()),
        waf_->settings().blocked_json, waf_->settings().blocked_html);
    Reply reply;
    reply.status = block.status;
    if (!block.content_type.empty())
      reply.headers.push_back({"Content-Type", scratch.keep(std::move(block.content_type))});
    if (!block.location.empty())
      reply.headers.push_back({"Location", scratch.keep(std::move(block.location))});
    reply.body = std::move(block.body);
    ex.keep_alive = false;  // like nginx-datadog: a blocked client's connection is not reused
    return reply;
  }

  void finish(server::Exchange& ex, RequestScope& scope, unsigned lane) const override {
    if (scope.appsec && !scope.appsec->pending.empty()) {
      waf_->inspect_response(*scope.appsec, static_cast<unsigned>(ex.status));
      if (scope.appsec->has_events()) keep_trace(scope);
    }
    count(scope, lane);
    if (scope.trace) tag_root(ex, scope, lane);
    if (scope.appsec && scope.appsec->has_events() && logger_) log_event(ex, scope, lane);
  }

 private:
  // USER_KEEP with decision maker -5 (AppSec), within DD_APPSEC_TRACE_RATE_LIMIT traces a second.
  void keep_trace(RequestScope& scope) const {
    if (!scope.trace || scope.trace->sampling_priority == 2) return;
    if (!keep_limiter_.allow(telemetry::RateLimiter::Clock::now()).allowed) return;
    telemetry::Trace& t = *scope.trace;
    t.sampling_priority = 2;
    auto& tags = t.inherited.propagation_tags;
    auto dm = std::find_if(tags.begin(), tags.end(), [](const auto& kv) { return kv.first == "_dd.p.dm"; });
    if (dm != tags.end())
      dm->second = "-5";
    else
      t.local_dm = 5;
  }

  void tag_root(server::Exchange& ex, RequestScope& scope, unsigned lane) const {
    telemetry::Span& root = scope.trace->spans[0];
    const appsec::RulesetInfo& info = waf_->info();
    root.set_metric("_dd.appsec.enabled", 1);
    root.set_meta("_dd.runtime_family", "cpp");
    root.set_meta("_dd.appsec.waf.version", appsec::kWafVersion);
    root.set_meta("_dd.appsec.event_rules.version", info.rules_version);
    // Once per worker. Read before writing: the workers' flags share a cache line.
    std::atomic<bool>& first = first_span_[lane % 64];
    if (first.load(std::memory_order_relaxed) && first.exchange(false, std::memory_order_relaxed)) {
      root.set_metric("_dd.appsec.event_rules.loaded", info.loaded);
      root.set_metric("_dd.appsec.event_rules.error_count", info.failed);
      if (info.failed) root.set_meta("_dd.appsec.event_rules.errors", info.errors_json());
    }
    if (!scope.appsec) return;
    const appsec::Inspection& found = *scope.appsec;
    root.set_metric("_dd.appsec.waf.duration", static_cast<double>(found.duration_ns) / 1000.0);
    if (found.timed_out) root.set_metric("_dd.appsec.waf.timeouts", 1);
    if (!found.has_events()) return;
    root.set_meta("appsec.event", "true");
    root.set_meta("_dd.appsec.json", found.event_json());
    if (scope.trace->inherited.origin.empty()) root.set_meta("_dd.origin", "appsec");
    if (!found.client_ip.empty()) {
      root.set_meta("http.client_ip", found.client_ip);
      root.set_meta("actor.ip", found.client_ip);
    }
    if (found.action.kind != appsec::Action::Kind::none) root.set_meta("appsec.blocked", "true");
    std::string key;
    for (std::string_view name : kCollectedHeaders) {
      auto it = ex.request.find(name);
      if (it == ex.request.end()) continue;
      key.assign("http.request.headers.").append(name);
      root.set_meta(key, it->value());
    }
  }

  void log_event(server::Exchange& ex, RequestScope& scope, unsigned lane) const {
    const appsec::Inspection& found = *scope.appsec;
    std::string rules;
    for (const auto& t : found.triggers) {
      auto doc = json::parse(t);
      const json::Value* id = doc ? doc->find("rule") : nullptr;
      id = id ? id->find("id") : nullptr;
      if (!id || !id->is_string()) continue;
      if (!rules.empty()) rules += ',';
      rules += id->as_string();
    }
    telemetry::LogCorrelation corr;
    if (scope.trace) {
      const telemetry::Span& root = scope.trace->spans[0];
      corr = {root.trace_id_low, root.trace_id_high, root.span_id};
    }
    const bool blocked = found.action.kind != appsec::Action::Kind::none;
    logger_->log(lane, telemetry::LogLevel::warning,
                 blocked ? "appsec: request blocked" : "appsec: attack detected",
                 {{"appsec.rules", rules},
                  {"http.client_ip", found.client_ip},
                  {"http.method", std::string_view(ex.request.method_string())},
                  {"http.url", std::string_view(ex.request.target())},
                  {"http.status_code", static_cast<std::int64_t>(ex.status)},
                  {"appsec.blocked", blocked}},
                 corr.span_id ? &corr : nullptr);
  }

  void register_metrics(telemetry::Metrics& metrics) {
    lanes_ = metrics.workers() + 1;
    counters_ = std::make_unique<LaneCounters[]>(lanes_);
    types_ = waf_->rule_types();
    for (unsigned i = 0; i < lanes_; ++i) {
      counters_[i].events = std::make_unique<std::atomic<std::uint64_t>[]>(types_.size());
      for (std::size_t k = 0; k < types_.size(); ++k) counters_[i].events[k] = 0;
    }
    auto sum = [this](std::atomic<std::uint64_t> LaneCounters::*field) {
      return [this, field] {
        std::uint64_t total = 0;
        for (unsigned i = 0; i < lanes_; ++i) total += (counters_[i].*field).load(std::memory_order_relaxed);
        return static_cast<double>(total);
      };
    };
    metrics.add_extra({"api_gateway_appsec_requests_inspected_total", "Requests the WAF inspected.",
                       "counter", sum(&LaneCounters::inspected)});
    metrics.add_extra({"api_gateway_appsec_requests_blocked_total",
                       "Requests a WAF rule blocked before any backend saw them.", "counter",
                       sum(&LaneCounters::blocked)});
    metrics.add_extra({"api_gateway_appsec_waf_timeouts_total",
                       "WAF runs that hit DD_APPSEC_WAF_TIMEOUT and stopped matching.", "counter",
                       sum(&LaneCounters::timeouts)});
    telemetry::Metrics::ExtraFamily events{
        "api_gateway_appsec_events_total", "Requests that triggered WAF rules, by rule type.", "counter", {}};
    events.series = [this] {
      std::vector<std::pair<std::string, double>> out;
      for (std::size_t k = 0; k < types_.size(); ++k) {
        std::uint64_t total = 0;
        for (unsigned i = 0; i < lanes_; ++i) total += counters_[i].events[k].load(std::memory_order_relaxed);
        out.emplace_back("type=\"" + types_[k] + "\"", static_cast<double>(total));
      }
      return out;
    };
    metrics.add_extra(std::move(events));
  }

  void count(RequestScope& scope, unsigned lane) const {
    if (!counters_ || !scope.appsec) return;
    LaneCounters& c = counters_[std::min(lane, lanes_ - 1)];
    const appsec::Inspection& found = *scope.appsec;
    c.add(c.inspected);
    if (found.timed_out) c.add(c.timeouts);
    if (found.action.kind != appsec::Action::Kind::none) c.add(c.blocked);
    for (const auto& type : found.rule_types) {
      auto it = std::find(types_.begin(), types_.end(), type);
      if (it != types_.end()) c.add(c.events[static_cast<std::size_t>(it - types_.begin())]);
    }
  }

  std::shared_ptr<const appsec::Waf> waf_;
  std::shared_ptr<telemetry::Logger> logger_;
  mutable telemetry::RateLimiter keep_limiter_;
  std::unique_ptr<std::atomic<bool>[]> first_span_;
  unsigned lanes_ = 0;
  std::unique_ptr<LaneCounters[]> counters_;
  std::vector<std::string> types_;  // every rule type of the ruleset, in a fixed order
};

}  // namespace

std::shared_ptr<const AppSecStage> make_appsec_stage(std::shared_ptr<const appsec::Waf> waf,
                                                     std::shared_ptr<telemetry::Logger> logger,
                                                     std::shared_ptr<telemetry::Metrics> metrics) {
  return std::make_shared<AppSec>(std::move(waf), std::move(logger), std::move(metrics));
}

}  // namespace gw::proxy

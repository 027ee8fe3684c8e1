#include "proxy/observe.h"

#include <charconv>

namespace gw::proxy {

namespace {
double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }
// Something records this call (metrics or a trace); otherwise the observations read no clock at all.
bool observed(const WorkerState& worker, const RequestScope& scope) { return worker.metrics || scope.trace; }
}  // namespace

std::string_view RequestScope::propagation(std::size_t span) const {
  if (!trace) return {};
  thread_local telemetry::detail::ByteBuffer lines;  // keeps its storage: no allocation per backend call
  lines.clear();
  tracer->inject_lines(*trace, span, lines);
  return lines.view();
}

BackendObservation::BackendObservation(const Endpoint& endpoint, std::size_t backend, WorkerState& worker,
                                       RequestScope& scope, std::size_t parent_span,
                                       Clock::time_point started)
    : endpoint_(endpoint),
      backend_(backend),
      worker_(worker),
      scope_(scope),
      start_(!observed(worker, scope)         ? Clock::time_point{}
             : started != Clock::time_point{} ? started
                                              : Clock::now()) {
  if (!scope.trace) return;
  span_ = scope.tracer->start_span(*scope.trace, parent_span, "http.request",
                                   endpoint.backends[backend].span_resource, "http",
                                   telemetry::unix_ns_at(start_));
  propagation_ = scope.propagation(span_);
}

void BackendObservation::finish(unsigned status, bool error, bool timed_out, bool complete,
                                std::int64_t request_bytes, std::int64_t response_content_length,
                                std::uint64_t body_bytes, std::string_view authority,
                                std::string_view target) {
  if (!observed(worker_, scope_)) return;
  if (end_ == Clock::time_point{}) end_ = Clock::now();  // one read for the metrics and the span
  const auto end = end_;
  const double secs = seconds(end - start_);
  if (auto* m = worker_.metrics) {
    const auto b = static_cast<std::uint32_t>(backend_);
    const auto outcome =
        status ? telemetry::ClientOutcome::ok
               : (timed_out ? telemetry::ClientOutcome::timedout : telemetry::ClientOutcome::failed);
    m->client(endpoint_.route_id, b, static_cast<int>(status), secs, outcome, request_bytes,
              response_content_length, endpoint_.backends[backend_].method == "HEAD", timings_);
    if (status) m->read(endpoint_.route_id, b, body_bytes, secs);
    m->backend(endpoint_.route_id, b, secs, error, false, complete);
  }
  if (scope_.trace) {
    telemetry::Span& s = scope_.trace->spans[span_];
    const BackendRoute& route = endpoint_.backends[backend_];
    s.meta.add_encoded(route.span_tags, route.span_tag_count);  // span.kind, http.method
    s.set_meta_joined("http.url", {"http://", authority, target});
    if (status) {
      char digits[12];
      s.set_meta(
          "http.status_code",
          std::string_view(digits, std::to_chars(digits, digits + sizeof digits, status).ptr - digits));
    }
    if (error) {
      s.error = 1;
      if (!error_type_.empty()) {
        s.set_meta("error.type", error_type_);
        s.set_meta("error.message", error_message_);
      }
    }
    s.finish(telemetry::unix_ns_at(end));
  }
}

void BackendObservation::describe_error(std::string_view type, std::string_view message) {
  if (!scope_.trace) return;
  error_type_ = type;
  error_message_.assign(message);
}

ProxyObservation::ProxyObservation(const Endpoint& endpoint, WorkerState& worker, RequestScope& scope)
    : endpoint_(endpoint),
      worker_(worker),
      scope_(scope),
      span_(scope.parent_span),
      start_(observed(worker, scope) ? Clock::now() : Clock::time_point{}) {
  if (!scope.trace) return;
  span_ = scope.tracer->start_span(*scope.trace, scope.parent_span, "krakend.proxy", endpoint.config->route,
                                   "", telemetry::unix_ns_at(start_));
}

void ProxyObservation::finish(bool error, bool complete, Clock::time_point end) {
  if (!observed(worker_, scope_)) return;
  if (end == Clock::time_point{}) end = Clock::now();
  if (auto* m = worker_.metrics) m->proxy(endpoint_.route_id, seconds(end - start_), error, false, complete);
  if (scope_.trace && span_ != scope_.parent_span) {
    telemetry::Span& s = scope_.trace->spans[span_];
    if (error) s.error = 1;
    s.finish(telemetry::unix_ns_at(end));
  }
}

}  // namespace gw::proxy

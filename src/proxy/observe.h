// Private to the proxy module: metrics and spans around a backend call and the proxy stage, so
// the pipeline code reads as the pipeline and observability stays in one place.
#pragma once

#include <chrono>
#include <string>

#include "proxy/endpoint.h"

namespace gw::proxy {

using Clock = std::chrono::steady_clock;

// One backend call: opens its span (when tracing) on construction, records metrics and closes the
// span in finish(). Cheap when telemetry is off: a null check, no clock read.
class BackendObservation {
 public:
  // `started`: a clock reading the caller took just before (the proxy stage's start when the call is
  // the stage's first action); default: read the clock. Each read costs ~20 ns on a VM.
  BackendObservation(const Endpoint& endpoint, std::size_t backend, WorkerState& worker, RequestScope& scope,
                     std::size_t parent_span, Clock::time_point started = {});
  // Trace propagation header lines for the outgoing request ("" when not tracing). Valid until the
  // next BackendObservation on this thread is made (RequestScope::propagation): build the head first.
  std::string_view propagation() const { return propagation_; }
  // status: 0 when no response arrived. error: the call failed for the pipeline (transport, status,
  // decoding). timed_out: the deadline fired. body_bytes: response body bytes read.
  // `target` is the request's path and query: the span's URL is made of it only when tracing.
  void finish(unsigned status, bool error, bool timed_out, bool complete, std::int64_t request_bytes,
              std::int64_t response_content_length, std::uint64_t body_bytes, std::string_view authority,
              std::string_view target);
  // The call ended at `t` (the upstream client's reading when it released the connection): finish()
  // uses it instead of reading the clock. A default time_point changes nothing.
  void ended_at(Clock::time_point t) { end_ = t; }
  Clock::time_point end() const { return end_; }  // after finish(): when the call ended
  // Why the call failed, for the span's error.type and error.message (Datadog's error tracking).
  // Call before finish(); `message` is copied (only when tracing).
  void describe_error(std::string_view type, std::string_view message);
  // Connection timings the client measured for this call (detailed_connection); call before finish().
  void connection_timings(const upstream::Exchange& up) {
    timings_.get_conn = up.get_conn_seconds;
    timings_.dns = up.dns_seconds;
  }

 private:
  const Endpoint& endpoint_;
  std::size_t backend_;
  WorkerState& worker_;
  RequestScope& scope_;
  std::size_t span_ = 0;
  std::string_view propagation_;
  Clock::time_point start_, end_;
  std::string_view error_type_;
  std::string error_message_;
  telemetry::ClientTimings timings_;
};

// The proxy stage around the whole pipeline of one endpoint.
class ProxyObservation {
 public:
  ProxyObservation(const Endpoint& endpoint, WorkerState& worker, RequestScope& scope);
  std::size_t span() const { return span_; }          // parent for backend spans
  Clock::time_point start() const { return start_; }  // default when nothing observes the stage
  // `end`: a reading the caller just took (its last backend call's end); default: read the clock.
  void finish(bool error, bool complete, Clock::time_point end = {});

 private:
  const Endpoint& endpoint_;
  WorkerState& worker_;
  RequestScope& scope_;
  std::size_t span_ = 0;
  Clock::time_point start_;
};

}  // namespace gw::proxy

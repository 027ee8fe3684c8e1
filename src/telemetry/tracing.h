// Datadog-first tracing: span model, Datadog + W3C context propagation, a tracer that builds one
// request's spans on the worker that serves it, and exporters that batch on a background thread
// (Datadog agent /v0.4/traces msgpack, or OTLP/HTTP JSON). Submitting never blocks the request path.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "telemetry/encoding.h"

namespace gw::telemetry {

using EnvFn = std::function<const char*(const char*)>;  // defaults to std::getenv; tests pass their own
const char* real_env(const char* name);

// Tags every span of the process carries (language, runtime-id, env, version, DD_TAGS, process_id):
// built once by the Tracer and written by the encoders from a pre-encoded copy, so a span neither
// stores nor re-encodes them.
struct SharedTags {
  std::vector<std::pair<std::string, std::string>> meta;
  std::vector<std::pair<std::string, double>> metrics;
  std::string v04_meta, v04_metrics;  // the same pairs, msgpack-encoded (no map header)
  void add_meta(std::string key, std::string value);
  void add_metric(std::string key, double value);
};

// A span's tags, stored the way the Datadog intake wants them: msgpack-encoded key/value entries of
// the span's meta (or metrics) map. Setting a tag is then two small copies into bytes a recycled span
// already owns, and the v0.4 encoder copies the entries in one piece. Reading them back (OTLP export,
// tests) decodes the entries.
template <class V>  // std::string_view (meta) or double (metrics)
class TagList {
 public:
  using Item = std::pair<std::string_view, V>;
  class iterator {
   public:
    explicit iterator(const char* p) : p_(p) {}
    Item operator*() const;
    iterator& operator++();
    bool operator==(const iterator& o) const { return p_ == o.p_; }

   private:
    const char* p_;
  };
  iterator begin() const { return iterator(bytes_.bytes.data()); }
  iterator end() const { return iterator(bytes_.bytes.data() + bytes_.used); }
  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  void clear() {  // keeps the bytes' storage for the next span
    bytes_.clear();
    count_ = 0;
  }
  void add(std::string_view key, V value);
  // Entries another TagList encoded (constant tags prepared once per route), appended in one copy.
  void add_encoded(std::string_view entries, std::uint32_t count) {
    bytes_.append(entries);
    count_ += count;
  }
  // A string value given in pieces (a URL from its parts), written without joining them first.
  void add_joined(std::string_view key, std::initializer_list<std::string_view> value_parts);
  std::string_view encoded() const { return bytes_.view(); }  // the map's entries, no header

 private:
  detail::ByteBuffer bytes_;
  std::uint32_t count_ = 0;
};

template <class V>
inline void TagList<V>::add(std::string_view key, V value) {  // inline: one room check, a few stores
  std::size_t bound = 10 + key.size();
  if constexpr (std::is_same_v<V, double>)
    bound += 9;
  else
    bound += value.size();
  bytes_.append(bound, [&](detail::CharCursor& c) {
    char* p = detail::msgpack::str(c.pos(), key);
    if constexpr (std::is_same_v<V, double>)
      c.rewind(detail::msgpack::f64(p, value));
    else
      c.rewind(detail::msgpack::str(p, value));
  });
  ++count_;
}

template <class V>
inline void TagList<V>::add_joined(std::string_view key,
                                   std::initializer_list<std::string_view> value_parts) {
  std::size_t size = 0;
  for (std::string_view part : value_parts) size += part.size();
  bytes_.append(10 + key.size() + size, [&](detail::CharCursor& c) {
    char* p =
        detail::msgpack::str_header(detail::msgpack::str(c.pos(), key), static_cast<std::uint32_t>(size));
    for (std::string_view part : value_parts) p = detail::msgpack::raw(p, part);
    c.rewind(p);
  });
  ++count_;
}

struct Span {
  std::uint64_t trace_id_low = 0, trace_id_high = 0;  // high goes to meta _dd.p.tid on the local root
  std::uint64_t span_id = 0, parent_id = 0;
  std::string_view service;     // the tracer's (or a literal): outlives the span
  std::string_view name, type;  // string literals; type: "web" server, "http" client, "" internal
  std::string resource;
  std::int64_t start_ns = 0, duration_ns = 0;  // Unix epoch ns / ns
  std::int32_t error = 0;
  TagList<std::string_view> meta;
  TagList<double> metrics;
  const SharedTags* shared = nullptr;  // set by Tracer::finish; owned by the Tracer, which outlives it

  void set_meta(std::string_view key, std::string_view value) { meta.add(key, value); }
  void set_meta_joined(std::string_view key, std::initializer_list<std::string_view> value_parts) {
    meta.add_joined(key, value_parts);
  }
  void set_metric(std::string_view key, double value) { metrics.add(key, value); }
  void finish(std::int64_t end_ns) { duration_ns = end_ns - start_ns; }
};

// The spans of one trace. clear() keeps the spans and their buffers: the Tracer recycles whole lists
// per thread, so starting a span resets one in place instead of constructing and moving one.
class SpanList {
 public:
  Span& operator[](std::size_t i) { return items_[i]; }
  const Span& operator[](std::size_t i) const { return items_[i]; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  Span* begin() { return items_.data(); }
  Span* end() { return items_.data() + size_; }
  const Span* begin() const { return items_.data(); }
  const Span* end() const { return items_.data() + size_; }
  Span& back() { return items_[size_ - 1]; }
  operator std::span<const Span>() const { return {items_.data(), size_}; }
  // A new last span with every field at its default (buffers keep their storage). References to
  // earlier spans may be invalidated; indices stay valid.
  Span& add();
  void push_back(Span s) { add() = std::move(s); }
  void clear() { size_ = 0; }

 private:
  std::vector<Span> items_;
  std::size_t size_ = 0;
};

std::int64_t now_unix_ns();
// The Unix time of a steady_clock reading, so a span's timestamps can come from the clock reads the
// metrics make anyway (one system clock read per thread and second, not one per timestamp).
std::int64_t unix_ns_at(std::chrono::steady_clock::time_point t);

// ---- propagation -------------------------------------------------------------------------------------

enum class PropagationStyle : std::uint8_t { datadog, tracecontext, baggage };

struct PropagationConfig {
  // dd-trace-cpp defaults; DD_TRACE_PROPAGATION_STYLE[_EXTRACT|_INJECT] override (comma/space separated,
  // case-insensitive; "none" empties; unknown styles such as b3 are ignored).
  std::vector<PropagationStyle> extract{PropagationStyle::datadog, PropagationStyle::tracecontext,
                                        PropagationStyle::baggage};
  std::vector<PropagationStyle> inject = extract;
  std::size_t tags_max_length = 512;  // DD_TRACE_X_DATADOG_TAGS_MAX_LENGTH
  static PropagationConfig from_env(const EnvFn& env = real_env);
};

// Values of the incoming request's headers (empty = absent). Filled by the server from its request.
struct PropagationHeaders {
  std::string_view x_datadog_trace_id, x_datadog_parent_id, x_datadog_sampling_priority, x_datadog_origin,
      x_datadog_tags, traceparent, tracestate, baggage;
};

struct TraceContext {
  std::uint64_t trace_id_high = 0, trace_id_low = 0;
  std::uint64_t parent_id = 0;  // extracted: the caller's span; injected: our span making the call
  std::optional<int> sampling_priority;
  std::string origin;
  std::vector<std::pair<std::string, std::string>> propagation_tags;  // _dd.p.* except _dd.p.tid
  std::string tracestate_other;   // other vendors' tracestate members, kept verbatim
  std::string datadog_parent_id;  // 16 hex, tagged _dd.parent_id when W3C's parent won the merge
  std::string baggage;            // W3C baggage, passed through
  bool valid() const { return trace_id_low != 0 || trace_id_high != 0; }
};

TraceContext extract(const PropagationConfig& cfg, const PropagationHeaders& h);
// Header name (lowercase) -> value, for the outgoing request. ctx.parent_id must be the calling span.
std::vector<std::pair<std::string_view, std::string>> inject(const PropagationConfig& cfg,
                                                             const TraceContext& ctx);

// ---- exporters ---------------------------------------------------------------------------------------

struct ExporterOptions {
  unsigned lanes = 1;                    // one per worker: submit(lane) only contends with the flusher
  std::size_t max_queued_spans = 20000;  // per lane; beyond that spans are dropped and counted
  // Wake the flusher early once a lane holds this many (~1 MB at ~360 B a span). Fewer, larger sends
  // cost the worker's core fewer context switches: 3000 measured ~2% more req/s than 1000 at 200
  // connections, and no change at 50.
  std::size_t flush_spans = 3000;
  std::chrono::milliseconds flush_interval{1000};
  std::chrono::milliseconds timeout{2000};  // connect + write + read of one flush
};

// Where to send: TCP host:port or a unix socket path.
struct Endpoint {
  std::string host = "localhost";
  std::uint16_t port = 8126;
  std::string unix_path;  // non-empty: unix domain socket
  // DD_TRACE_AGENT_URL (http://h:p or unix:///path) wins over DD_AGENT_HOST / DD_TRACE_AGENT_PORT.
  static Endpoint datadog_from_env(const EnvFn& env = real_env);
  static std::optional<Endpoint> parse_url(std::string_view url);
};

class SpanExporter {
 public:
  virtual ~SpanExporter() = default;
  // Never blocks on I/O: encodes the trace into this lane's queue or drops it (counted). The spans are
  // only read during the call: the tracer recycles them afterwards.
  virtual void submit(std::span<const Span> trace, unsigned lane) = 0;
  virtual std::uint64_t dropped_spans() const = 0;
  virtual std::uint64_t sent_spans() const = 0;
  // Agent-provided sampling rate for new traces (Datadog rate_by_service), or < 0 if none yet.
  virtual double agent_sample_rate() const { return -1; }
  // Flushes what is queued (bounded by the timeout) and stops the thread. Idempotent.
  virtual void shutdown() = 0;
};

struct ServiceInfo {
  std::string service, env, version;
};

// Datadog agent native intake: PUT /v0.4/traces, msgpack, headers as dd-trace-cpp sends them.
std::unique_ptr<SpanExporter> make_datadog_exporter(Endpoint agent, ServiceInfo info,
                                                    ExporterOptions opts = {});
// OTLP/HTTP JSON: POST /v1/traces (telemetry/opentelemetry exporters.otlp with use_http: true).
std::unique_ptr<SpanExporter> make_otlp_http_exporter(Endpoint collector, ServiceInfo info,
                                                      ExporterOptions opts = {});

// Encoders, exposed for tests.
std::string encode_v04_msgpack(const std::vector<std::vector<Span>>& traces);
std::string encode_otlp_json(const std::vector<std::vector<Span>>& traces, const ServiceInfo& info);

// ---- tracer ------------------------------------------------------------------------------------------

struct TracerConfig {
  bool enabled = false;  // DD_TRACE_ENABLED=true opts in (KrakenD ignores DD_*; off by default)
  std::string service = "api-gateway", env, version;  // DD_SERVICE, DD_ENV, DD_VERSION
  double sample_rate = -1;                            // DD_TRACE_SAMPLE_RATE; < 0 = agent rates
  double rate_limit = 100;  // DD_TRACE_RATE_LIMIT: traces per second a sampling rule may keep
  std::vector<std::pair<std::string, std::string>> tags;  // DD_TAGS, on every span
  PropagationConfig propagation;
  static TracerConfig from_env(const EnvFn& env = real_env);
};

// The spans of one request in this process; spans[0] is the local root. Lives on the request's
// coroutine frame and is only touched by the worker serving it.
struct Trace {
  SpanList spans;
  int sampling_priority = 1;
  int mechanism = 0;       // how the sampling decision was made
  int local_dm = -1;       // >= 0: this process decided: _dd.p.dm = -<local_dm> (not in inherited)
  double rate = -1;        // stamped as _dd.agent_psr / _dd.rule_psr
  double limit_rate = -1;  // >= 0: the rate limiter was consulted; stamped as _dd.limit_psr
  TraceContext inherited;  // origin, _dd.p.* tags, tracestate of other vendors, baggage
};

// dd-trace-cpp's limiter for traces a sampling rule keeps (DD_TRACE_RATE_LIMIT): a token bucket of
// `per_second` tokens refilled continuously, shared by all workers. effective_rate is the share of
// requests allowed, averaged over the last 10 seconds (reported as _dd.limit_psr).
class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RateLimiter(double per_second, Clock::time_point now = Clock::now());
  struct Result {
    bool allowed;
    double effective_rate;
  };
  Result allow(Clock::time_point now);

 private:
  std::mutex m_;
  double per_second_, tokens_;
  Clock::time_point refilled_, period_start_;
  std::uint64_t requested_ = 0, allowed_ = 0;  // in the current one-second period
  std::deque<double> previous_rates_;          // of the periods before it, newest first, up to 9
};

class Tracer {
 public:
  Tracer(TracerConfig config, std::shared_ptr<SpanExporter> exporter);
  bool enabled() const { return config_.enabled && exporter_ != nullptr; }
  const TracerConfig& config() const { return config_; }

  // Local root (server) span, continuing `parent` when it is valid.
  Trace start_trace(TraceContext parent, std::string_view name, std::string_view resource,
                    std::string_view type, std::int64_t start_ns) const;
  // The same, into a fresh Trace that already lives where it is used (no Trace moved per request).
  void start_trace_into(Trace& t, TraceContext parent, std::string_view name, std::string_view resource,
                        std::string_view type, std::int64_t start_ns) const;
  // Child of trace.spans[parent]; returns its index (indices stay valid as the vector grows).
  std::size_t start_span(Trace& trace, std::size_t parent, std::string_view name, std::string_view resource,
                         std::string_view type, std::int64_t start_ns) const;
  // What to propagate for an outgoing call made by trace.spans[span].
  TraceContext context_for(const Trace& trace, std::size_t span) const;
  std::vector<std::pair<std::string_view, std::string>> inject(const Trace& trace, std::size_t span) const {
    return telemetry::inject(config_.propagation, context_for(trace, span));
  }
  // The same headers as inject(), appended to `out` as "name: value\r\n" lines (no temporaries).
  void inject_lines(const Trace& trace, std::size_t span, detail::ByteBuffer& out) const;
  // Stamps the root/service tags and hands the spans to the exporter (non-blocking), then keeps the
  // emptied spans for this thread's next traces.
  void finish(Trace&& trace, unsigned lane) const;

 private:
  TracerConfig config_;
  std::shared_ptr<SpanExporter> exporter_;
  SharedTags shared_;
  std::unique_ptr<RateLimiter> limiter_;  // consulted only when a sampling rule keeps a trace
};

std::uint64_t random_id();  // non-zero, 63 bits
std::string hex16(std::uint64_t v);

}  // namespace gw::telemetry

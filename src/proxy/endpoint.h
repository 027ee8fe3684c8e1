// Private to the proxy module: one configured endpoint, compiled for the request path.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "appsec/appsec.h"
#include "config/config.h"
#include "proxy/forward.h"
#include "proxy/pipeline.h"
#include "response/response.h"
#include "router/router.h"
#include "server/server.h"
#include "telemetry/telemetry.h"
#include "upstream/upstream.h"

namespace gw::proxy {

namespace asio = boost::asio;
using httpio::Task;

// Relay buffers reused across requests: a 16 KiB array in a coroutine frame would make every
// frame a fresh malloc (and the heap trimming that follows shows up as page faults).
class BufferPool {
 public:
  static constexpr std::size_t kSize = 16384;
  class Lease {
   public:
    Lease(BufferPool& pool) : pool_(pool), data_(pool.take()) {}
    ~Lease() { pool_.give(std::move(data_)); }
    char* data() { return data_.get(); }
    std::size_t size() const { return kSize; }

   private:
    BufferPool& pool_;
    std::unique_ptr<char[]> data_;
  };

 private:
  std::unique_ptr<char[]> take() {
    if (free_.empty()) return std::unique_ptr<char[]>(new char[kSize]);
    auto b = std::move(free_.back());
    free_.pop_back();
    return b;
  }
  void give(std::unique_ptr<char[]> b) {
    if (free_.size() < 1024) free_.push_back(std::move(b));
  }
  std::vector<std::unique_ptr<char[]>> free_;
};

// Per worker thread: the upstream pools and round-robin cursors. Never shared between threads.
struct WorkerState {
  WorkerState(httpio::Executor ex, upstream::Options o) : executor(ex), client(ex, o) {}
  httpio::Executor executor;
  upstream::Client client;
  BufferPool buffers;
  std::size_t round_robin = 0;
  telemetry::MetricsShard* metrics = nullptr;  // this worker's shard, or null
  unsigned lane = 0;                           // worker index: exporter / logger lane
};

// Per-request observability handles, passed down the pipeline.
struct RequestScope {
  const telemetry::Tracer* tracer = nullptr;  // non-null only when tracing is on
  telemetry::Trace* trace = nullptr;
  std::size_t parent_span = 0;  // the server span
  std::optional<appsec::Inspection> appsec;  // the WAF's findings, when it inspected this request
  // Header lines ("name: value\r\n") propagating the trace from span `span` to a backend. They live
  // in a per-thread buffer: valid until the next call on this thread, so use them right away.
  std::string_view propagation(std::size_t span) const;
};

struct Endpoint {
  const config::Endpoint* config = nullptr;
  const config::RouterOptions* router = nullptr;
  HeaderFilter headers;
  QueryFilter query;
  std::vector<BackendRoute> backends;
  std::vector<response::BackendShaping> shaping;
  std::vector<response::FlatmapOp> flatmap;  // endpoint-level, on the merged result
  std::optional<response::StaticConfig> static_data;
  bool sequential = false;
  bool noop = false;
  // The request body goes to the backend as it arrives (no-op endpoints with one backend call);
  // every other endpoint reads it whole first, as its backends each get a copy.
  bool streams_body = false;
  std::string output_encoding;  // the renderer KrakenD would pick
  std::string krakend_version;  // X-Krakend's value: "Version <v>"
  std::string cache_control;    // "public, max-age=N", or empty: no Cache-Control
  std::string user_agent;       // "KrakenD Version <v>"

  std::vector<std::shared_ptr<const RouterStage>> router_stages;  // before any backend, in order

  std::uint32_t route_id = 0;  // index in the metrics route table
  // The server span's constant tags for this route (span.kind, http.method, http.route), encoded once.
  std::string span_tags;
  std::uint32_t span_tag_count = 0;

  Task<bool> handle(server::Exchange& ex, const router::Match& match, WorkerState& worker,
                    RequestScope& scope) const;

 private:
  Task<bool> guarded(server::Exchange& ex, const router::Match& match, WorkerState& worker,
                     RequestScope& scope) const;
  Task<bool> serve_noop(server::Exchange& ex, const router::Match& match, WorkerState& worker,
                        RequestScope& scope) const;
  Task<bool> serve_json(server::Exchange& ex, const router::Match& match, WorkerState& worker,
                        RequestScope& scope) const;
  ForwardContext forward_context(server::Exchange& ex, const router::Match& match,
                                 const std::string& ip) const;
};

// The backend stages' admission of one call (rate limit, circuit breaker): an error text refuses it.
inline std::optional<std::string> admit_call(const BackendRoute& b) {
  for (const auto& stage : b.stages)
    if (auto refusal = stage->before_call()) return refusal;
  return std::nullopt;
}
// Tells the backend stages how the call ended (status 0: no response).
inline void settle_call(const BackendRoute& b, unsigned status, bool failed) {
  for (const auto& stage : b.stages) stage->after_call(status, failed);
}

// Picks the host for one call (round robin over the configured hosts).
inline std::size_t pick_host(const BackendRoute& b, WorkerState& w) {
  return b.authorities.size() == 1 ? 0 : (w.round_robin++ % b.authorities.size());
}

}  // namespace gw::proxy

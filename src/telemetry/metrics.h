// Prometheus metrics with the exact families, labels and buckets of KrakenD's telemetry/opentelemetry
// exporter (krakend-otel + OTel Prometheus exporter). Built once from the route table; each worker
// records into its own MetricsShard with relaxed atomic loads/stores (single writer per shard, so no
// RMW and no lock); scrape() sums the shards and renders the text exposition format 0.0.4.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gw::telemetry {

using Attributes = std::vector<std::pair<std::string, std::string>>;

// KrakenD's histogram boundaries (krakend-otel config/histogram_buckets.go).
inline constexpr std::array<double, 20> kTimeBuckets = {
    0.01, 0.02, 0.05, 0.075, 0.1, 0.125, 0.15, 0.175, 0.2, 0.25, 0.3, 0.35, 0.5, 0.75, 1, 1.5, 2, 3.5, 5, 10};
inline constexpr std::array<double, 15> kSizeBuckets = {128,    256,     512,     1024,     4096,
                                                        8192,   16384,   32768,   65536,    262144,
                                                        524288, 1048576, 4194304, 16777216, 67108864};

struct BackendDesc {
  std::string method = "GET";    // backend `method`
  std::string url_pattern;       // normalised like KrakenD: `{{.Id}}` -> `:id` (use normalize_url_pattern)
  std::string host;              // first backend host as configured, e.g. "http://api:80"
  Attributes static_attributes;  // layers.backend.metrics.static_attributes, e.g. backend_type=test_api
};

struct RouteDesc {
  std::string route;   // endpoint in gin form: "/api/users/:id"
  std::string method;  // endpoint method
  std::vector<BackendDesc> backends;
};

struct MetricsConfig {
  std::string service_name = "KrakenD";  // target_info
  std::string service_version;           // target_info (KrakenD default: its own version)
  std::string deploy_env;                // adds deployment_environment to target_info when set
  bool process_metrics = true;
  bool go_metrics = true;               // our honest go_* aliases, see process_stats.cpp
  Attributes server_static_attributes;  // layers.global.metrics_static_attributes
  Attributes proxy_static_attributes;   // layers.proxy.static_attributes
  // layers.backend.metrics.detailed_connection: http_client_request_{dns,get_conn}_duration.
  bool detailed_connection = false;
  std::vector<RouteDesc> routes;
  unsigned workers = 1;
};

// `{{.Id}}` or `{id}` -> `:id` (krakend-otel NormalizeURLPattern lowercases the whole name).
std::string normalize_url_pattern(std::string_view url_pattern);

enum class ClientOutcome : std::uint8_t { ok, failed, canceled, timedout };

// Optional per-phase connection timings (detailed_connection); negative = not measured.
struct ClientTimings {
  double dns = -1;
  double get_conn = -1;
  double tls = -1;
};

namespace detail {
struct ServerCell;
struct ClientCell;
template <class V, int PerBlock>
struct SlotList;
struct RouteShard;
}  // namespace detail

class Metrics;

// One per worker thread. Only its owner thread may record; any thread may be scraping.
class MetricsShard {
 public:
  static constexpr std::uint32_t kUnmatched = 0xffffffffu;  // http_route = "<status> <StatusText>"

  // http_server_duration / http_server_response_size.
  void server(std::uint32_t route, std::string_view method, int status, double seconds,
              std::uint64_t response_bytes);
  // krakend_proxy_duration.
  void proxy(std::uint32_t route, double seconds, bool error, bool canceled, bool complete);
  // krakend_backend_duration.
  void backend(std::uint32_t route, std::uint32_t backend, double seconds, bool error, bool canceled,
               bool complete);
  // http_client_* round-trip metrics. status 0 = no response. request_content_length < 0 = unknown;
  // response_content_length < 0 = no Content-Length (counted in no_content_length); head = HEAD request.
  void client(std::uint32_t route, std::uint32_t backend, int status, double seconds, ClientOutcome outcome,
              std::int64_t request_content_length, std::int64_t response_content_length, bool head = false,
              const ClientTimings& timings = {});
  // http_client_response_read_* (read_payload): body bytes actually read and the time it took.
  void read(std::uint32_t route, std::uint32_t backend, std::uint64_t bytes, double seconds);

  MetricsShard(const MetricsShard&) = delete;
  MetricsShard& operator=(const MetricsShard&) = delete;
  ~MetricsShard();

 private:
  friend class Metrics;
  explicit MetricsShard(const Metrics& owner);
  const Metrics& owner_;
  std::vector<std::unique_ptr<detail::RouteShard>> routes_;
  std::unique_ptr<detail::SlotList<detail::ServerCell, 4>> unmatched_;
};

class Metrics {
 public:
  explicit Metrics(MetricsConfig config);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  MetricsShard& shard(unsigned worker) { return *shards_.at(worker); }
  unsigned workers() const { return static_cast<unsigned>(shards_.size()); }
  const MetricsConfig& config() const { return config_; }

  // Prometheus text exposition (version 0.0.4). Allocates; call from the metrics server thread only.
  std::string scrape() const;

  // Extra gauge rendered at scrape time (e.g. the trace exporter's dropped spans). The callback runs on
  // the scraping thread. Register before serving; not thread-safe against scrape().
  struct ExtraFamily {
    std::string name, help, type;  // type: "counter" | "gauge"
    std::function<double()> value = nullptr;
    // Labelled series instead of one value: {"type=\"sql_injection\"", 3}, ... (label text as written).
    std::function<std::vector<std::pair<std::string, double>>()> series = nullptr;
  };
  void add_extra(ExtraFamily family);

 private:
  friend class MetricsShard;
  struct Precomputed;
  MetricsConfig config_;
  std::unique_ptr<Precomputed> pre_;
  std::vector<std::unique_ptr<MetricsShard>> shards_;
  std::vector<ExtraFamily> extras_;
};

// Go strconv.FormatFloat(v, 'g', -1, 64), as the Go exporter prints values and `le`.
std::string format_go_float(double v);

}  // namespace gw::telemetry

// Recording side of the metrics: everything here runs on a worker thread per request.
#include "telemetry/metrics.h"

#include <cctype>

#include "telemetry/metrics_internal.h"

namespace gw::telemetry {

std::string normalize_url_pattern(std::string_view p) {
  // Accepts both `{{.Id}}` (Lura's parsed form) and `{id}` (krakend.json form): KrakenD lowercases the
  // whole placeholder name.
  std::string out;
  out.reserve(p.size());
  std::size_t i = 0;
  while (i < p.size()) {
    if (p.compare(i, 3, "{{.") == 0) {
      std::size_t end = p.find("}}", i + 3);
      if (end != std::string_view::npos) {
        out += ':';
        for (char c : p.substr(i + 3, end - i - 3)) out += static_cast<char>(std::tolower(c));
        i = end + 2;
        continue;
      }
    } else if (p[i] == '{') {
      std::size_t end = p.find('}', i + 1);
      if (end != std::string_view::npos) {
        out += ':';
        for (char c : p.substr(i + 1, end - i - 1)) out += static_cast<char>(std::tolower(c));
        i = end + 1;
        continue;
      }
    }
    out += p[i++];
  }
  return out;
}

namespace detail {

std::uint32_t method_index(std::string_view m) {
  // Ordered by how often a gateway sees them.
  static constexpr std::uint32_t kGet = 2, kPost = 6, kPut = 7, kDelete = 1, kPatch = 5, kHead = 3,
                                 kOptions = 4, kConnect = 0, kTrace = 8, kOther = 9;
  switch (m.size()) {
    case 3:
      if (m == "GET") return kGet;
      if (m == "PUT") return kPut;
      break;
    case 4:
      if (m == "POST") return kPost;
      if (m == "HEAD") return kHead;
      break;
    case 5:
      if (m == "PATCH") return kPatch;
      if (m == "TRACE") return kTrace;
      break;
    case 6:
      if (m == "DELETE") return kDelete;
      break;
    case 7:
      if (m == "OPTIONS") return kOptions;
      if (m == "CONNECT") return kConnect;
      break;
  }
  return kOther;
}

std::string status_route(int status) {
  // Go's http.StatusText, which gin/KrakenD put in http_route for requests no endpoint matched.
  static const std::pair<int, const char*> kTexts[] = {{100, "Continue"},
                                                       {101, "Switching Protocols"},
                                                       {200, "OK"},
                                                       {201, "Created"},
                                                       {202, "Accepted"},
                                                       {204, "No Content"},
                                                       {206, "Partial Content"},
                                                       {301, "Moved Permanently"},
                                                       {302, "Found"},
                                                       {303, "See Other"},
                                                       {304, "Not Modified"},
                                                       {307, "Temporary Redirect"},
                                                       {308, "Permanent Redirect"},
                                                       {400, "Bad Request"},
                                                       {401, "Unauthorized"},
                                                       {403, "Forbidden"},
                                                       {404, "Not Found"},
                                                       {405, "Method Not Allowed"},
                                                       {406, "Not Acceptable"},
                                                       {408, "Request Timeout"},
                                                       {409, "Conflict"},
                                                       {411, "Length Required"},
                                                       {413, "Request Entity Too Large"},
                                                       {414, "Request URI Too Long"},
                                                       {415, "Unsupported Media Type"},
                                                       {429, "Too Many Requests"},
                                                       {431, "Request Header Fields Too Large"},
                                                       {500, "Internal Server Error"},
                                                       {501, "Not Implemented"},
                                                       {502, "Bad Gateway"},
                                                       {503, "Service Unavailable"},
                                                       {504, "Gateway Timeout"},
                                                       {505, "HTTP Version Not Supported"}};
  std::string s = std::to_string(status) + ' ';
  for (const auto& [code, text] : kTexts) {
    if (code == status) s += text;
  }
  return s;
}

}  // namespace detail

using namespace detail;

namespace {
constexpr std::uint32_t stage_key(bool error, bool canceled, bool complete) {
  return (error ? 1u : 0u) | (canceled ? 2u : 0u) | (complete ? 4u : 0u);
}
std::uint32_t clamp_status(int status) { return status < 0 || status > 999 ? 0u : std::uint32_t(status); }
}  // namespace

MetricsShard::MetricsShard(const Metrics& owner)
    : owner_(owner), unmatched_(std::make_unique<SlotList<ServerCell>>()) {
  for (const auto& r : owner.config().routes) {
    auto rs = std::make_unique<RouteShard>();
    for (std::size_t b = 0; b < r.backends.size(); ++b)
      rs->backends.push_back(std::make_unique<BackendShard>());
    routes_.push_back(std::move(rs));
  }
}

MetricsShard::~MetricsShard() = default;

void MetricsShard::server(std::uint32_t route, std::string_view method, int status, double seconds,
                          std::uint64_t response_bytes) {
  std::uint32_t key = method_index(method) << 16 | clamp_status(status);
  auto& slots = route < routes_.size() ? routes_[route]->server : *unmatched_;
  ServerCell& c = slots.get(key);
  c.duration.observe(seconds, kTimeBuckets.data());
  c.size.observe(static_cast<double>(response_bytes), kSizeBuckets.data());
}

void MetricsShard::proxy(std::uint32_t route, double seconds, bool error, bool canceled, bool complete) {
  if (route >= routes_.size()) return;
  routes_[route]->proxy.get(stage_key(error, canceled, complete)).observe(seconds, kTimeBuckets.data());
}

void MetricsShard::backend(std::uint32_t route, std::uint32_t backend, double seconds, bool error,
                           bool canceled, bool complete) {
  if (route >= routes_.size() || backend >= routes_[route]->backends.size()) return;
  routes_[route]
      ->backends[backend]
      ->stage.get(stage_key(error, canceled, complete))
      .observe(seconds, kTimeBuckets.data());
}

void MetricsShard::client(std::uint32_t route, std::uint32_t backend, int status, double seconds,
                          ClientOutcome outcome, std::int64_t request_content_length,
                          std::int64_t response_content_length, bool head, const ClientTimings& t) {
  if (route >= routes_.size() || backend >= routes_[route]->backends.size()) return;
  // Mirrors krakend-otel transport_metrics.go report(): no status without a response; a timeout is
  // also a failure; a cancel is not.
  bool has_response = outcome == ClientOutcome::ok;
  ClientCell& c = routes_[route]->backends[backend]->client.get(has_response ? clamp_status(status) : 0);
  bump(c.started);
  if (request_content_length >= 0) {
    bump(c.request_size, static_cast<std::uint64_t>(request_content_length));
    bump(c.request_size_n);
  }
  switch (outcome) {
    case ClientOutcome::ok:
      break;
    case ClientOutcome::canceled:
      bump(c.canceled);
      break;
    case ClientOutcome::timedout:
      bump(c.timedout);
      bump(c.failed);
      break;
    case ClientOutcome::failed:
      bump(c.failed);
      break;
  }
  c.duration.observe(seconds, kTimeBuckets.data());
  if (has_response && !head) {
    if (response_content_length >= 0) {
      c.response_size.observe(static_cast<double>(response_content_length), kSizeBuckets.data());
    } else {
      bump(c.no_content_length);
    }
  }
  if (t.dns >= 0) c.dns.observe(t.dns, kTimeBuckets.data());
  if (t.get_conn >= 0) c.get_conn.observe(t.get_conn, kTimeBuckets.data());
  if (t.tls >= 0) c.tls.observe(t.tls, kTimeBuckets.data());
}

void MetricsShard::read(std::uint32_t route, std::uint32_t backend, std::uint64_t bytes, double seconds) {
  if (route >= routes_.size() || backend >= routes_[route]->backends.size()) return;
  ReadCell& c = routes_[route]->backends[backend]->read;
  c.size.observe(static_cast<double>(bytes), kSizeBuckets.data());
  c.time.observe(seconds, kTimeBuckets.data());
}

}  // namespace gw::telemetry

// Scrape side: precomputed label sets, shard summation and Prometheus text rendering. Runs on the
// metrics server thread; allocation is fine here.
#include <charconv>
#include <cmath>
#include <map>

#include "telemetry/metrics.h"
#include "telemetry/metrics_internal.h"

namespace gw::telemetry {

using namespace detail;

std::string format_go_float(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == 0) return "0";
  char buf[64];
  // Shortest round-trip digits; Go's 'g' with precision -1 switches to %e when exp < -4 || exp >= 6.
  auto sci = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string_view s(buf, static_cast<std::size_t>(sci.ptr - buf));
  // to_chars writes no NUL: parse the exponent within what it wrote ("e-05", "e+06").
  int exp = 0;
  const char* e = s.data() + s.find('e') + 1;
  if (*e == '+') ++e;
  std::from_chars(e, sci.ptr, exp);
  if (exp < -4 || exp >= 6) return std::string(s);
  auto fix = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return std::string(buf, fix.ptr);
}

namespace {

const std::pair<std::string, std::string> kScopeName{"otel_scope_name", "io.krakend.krakend-otel"};
const std::pair<std::string, std::string> kScopeVersion{"otel_scope_version", ""};

void escape_into(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
}

// Labels sorted by name, as the Go exporter prints them.
std::string render_labels(Attributes l) {
  std::sort(l.begin(), l.end());
  std::string out;
  for (const auto& [k, v] : l) {
    if (!out.empty()) out += ',';
    out += k;
    out += "=\"";
    escape_into(out, v);
    out += '"';
  }
  return out;
}

Attributes with(Attributes base, std::initializer_list<std::pair<std::string, std::string>> more) {
  base.insert(base.end(), more.begin(), more.end());
  return base;
}

// server_address / server_port as krakend-otel computes them, including its inverted port check
// (requestServerAndPort): "80" when the host has an explicit port, "0" when it has none.
std::pair<std::string, std::string> server_address_port(std::string_view host) {
  if (auto p = host.find("://"); p != std::string_view::npos) host.remove_prefix(p + 3);
  if (auto p = host.find('/'); p != std::string_view::npos) host = host.substr(0, p);
  std::string_view name = host, port;
  if (!host.empty() && host.front() == '[') {
    auto close = host.find(']');
    name = host.substr(1, close == std::string_view::npos ? host.npos : close - 1);
    if (close != std::string_view::npos && close + 1 < host.size() && host[close + 1] == ':')
      port = host.substr(close + 2);
  } else if (auto c = host.rfind(':'); c != std::string_view::npos) {
    name = host.substr(0, c);
    port = host.substr(c + 1);
  }
  bool numeric = !port.empty() && port.find_first_not_of("0123456789") == std::string_view::npos;
  return {std::string(name), numeric ? "80" : "0"};
}

std::string bool_str(bool b) { return b ? "true" : "false"; }

template <std::size_t N>
struct HistAcc {
  std::array<std::uint64_t, N + 1> b{};
  double sum = 0;
  void add(const HistoN<N>& h) {
    for (std::size_t i = 0; i <= N; ++i) b[i] += h.buckets[i].load(std::memory_order_relaxed);
    sum += h.sum.load(std::memory_order_relaxed);
  }
  std::uint64_t count() const {
    std::uint64_t c = 0;
    for (auto x : b) c += x;
    return c;
  }
};

struct Family {
  std::string type, help;
  std::map<std::string, std::string> series;  // label string -> rendered lines
};
using Families = std::map<std::string, Family>;

template <std::size_t N>
void emit_hist(Families& f, const std::string& name, const std::string& labels, const HistAcc<N>& h,
               const std::array<double, N>& bounds) {
  Family& fam = f[name];
  fam.type = "histogram";
  std::string& out = fam.series[labels];
  std::uint64_t cum = 0;
  for (std::size_t i = 0; i <= N; ++i) {
    cum += h.b[i];
    out += name + "_bucket{" + labels + ",le=\"" + (i < N ? format_go_float(bounds[i]) : "+Inf") + "\"} " +
           format_go_float(static_cast<double>(cum)) + '\n';
  }
  out += name + "_sum{" + labels + "} " + format_go_float(h.sum) + '\n';
  out += name + "_count{" + labels + "} " + format_go_float(static_cast<double>(cum)) + '\n';
}

void emit_value(Families& f, const std::string& name, const std::string& type, const std::string& labels,
                double v) {
  Family& fam = f[name];
  fam.type = type;
  fam.series[labels] += name + (labels.empty() ? "" : "{" + labels + "}") + ' ' + format_go_float(v) + '\n';
}

std::string family_help(const std::string& name) {
  static const std::map<std::string, std::string> kHelp = {
      {"http_server_duration", "Time to serve a request, in seconds (http.server.duration)."},
      {"http_server_response_size", "Response bytes written to the client (http.server.response.size)."},
      {"krakend_proxy_duration", "Time spent in the proxy layer of an endpoint, in seconds."},
      {"krakend_backend_duration", "Time spent in the backend layer, in seconds."},
      {"http_client_duration", "Backend round-trip time, in seconds (http.client.duration)."},
      {"http_client_request_started_count_total", "Backend requests started."},
      {"http_client_request_failed_count_total", "Backend requests failed (timeouts included)."},
      {"http_client_request_canceled_count_total", "Backend requests canceled."},
      {"http_client_request_timedout_count_total", "Backend requests timed out."},
      {"http_client_request_size_total", "Sum of backend request Content-Length values, in bytes."},
      {"http_client_response_size", "Backend response Content-Length, in bytes."},
      {"http_client_response_no_content_length_total", "Backend responses without Content-Length."},
      {"http_client_request_dns_duration", "Time resolving the backend host, in seconds."},
      {"http_client_request_get_conn_duration", "Time getting a backend connection, in seconds."},
      {"http_client_request_tls_duration", "Time in the TLS handshake with the backend, in seconds."},
      {"http_client_response_read_size_hist", "Backend response body bytes read."},
      {"http_client_response_read_size_total", "Backend response body bytes read."},
      {"http_client_response_read_time_hist_seconds", "Time reading backend response bodies, in seconds."},
      {"http_client_response_read_time_seconds_total", "Time reading backend response bodies, in seconds."}};
  auto it = kHelp.find(name);
  return it == kHelp.end() ? name : it->second;
}

using TimeAcc = HistAcc<kTimeBuckets.size()>;
using SizeAcc = HistAcc<kSizeBuckets.size()>;

}  // namespace

struct Metrics::Precomputed {
  struct Backend {
    Attributes base;    // backend stage + read metrics
    Attributes client;  // base + clientname, server_address, server_port
  };
  struct Route {
    Attributes server, proxy;
    std::vector<Backend> backends;
  };
  std::vector<Route> routes;
  Attributes unmatched;
};

Metrics::Metrics(MetricsConfig config) : config_(std::move(config)), pre_(std::make_unique<Precomputed>()) {
  Attributes scope{kScopeName, kScopeVersion};
  pre_->unmatched = with(scope, {{"url_scheme", "http"}});
  pre_->unmatched.insert(pre_->unmatched.end(), config_.server_static_attributes.begin(),
                         config_.server_static_attributes.end());
  for (const auto& r : config_.routes) {
    Precomputed::Route pr;
    pr.server = with(pre_->unmatched, {{"http_route", r.route}});
    pr.proxy = with(scope, {{"http_request_method", r.method}, {"http_route", r.route}});
    pr.proxy.insert(pr.proxy.end(), config_.proxy_static_attributes.begin(),
                    config_.proxy_static_attributes.end());
    for (const auto& b : r.backends) {
      Precomputed::Backend pb;
      pb.base = with(scope, {{"http_request_method", b.method},
                             {"http_route", b.url_pattern},
                             {"krakend_endpoint_method", r.method},
                             {"krakend_endpoint_route", r.route}});
      pb.base.insert(pb.base.end(), b.static_attributes.begin(), b.static_attributes.end());
      auto [addr, port] = server_address_port(b.host);
      pb.client =
          with(pb.base, {{"clientname", b.url_pattern}, {"server_address", addr}, {"server_port", port}});
      pr.backends.push_back(std::move(pb));
    }
    pre_->routes.push_back(std::move(pr));
  }
  unsigned n = config_.workers ? config_.workers : 1;
  for (unsigned i = 0; i < n; ++i) shards_.push_back(std::unique_ptr<MetricsShard>(new MetricsShard(*this)));
}

Metrics::~Metrics() = default;

void Metrics::add_extra(ExtraFamily family) { extras_.push_back(std::move(family)); }

std::string Metrics::scrape() const {
  Families f;
  const auto& pre = *pre_;
  const std::size_t n_routes = pre.routes.size();

  for (std::size_t r = 0; r <= n_routes; ++r) {  // r == n_routes: unmatched requests
    std::map<std::uint32_t, std::pair<TimeAcc, SizeAcc>> server;
    for (const auto& s : shards_) {
      const auto& slots = r < n_routes ? s->routes_[r]->server : *s->unmatched_;
      slots.for_each([&](std::uint32_t k, const ServerCell& c) {
        server[k].first.add(c.duration);
        server[k].second.add(c.size);
      });
    }
    for (const auto& [k, acc] : server) {
      if (acc.first.count() == 0) continue;
      int status = static_cast<int>(k & 0xffff);
      Attributes l =
          r < n_routes ? pre.routes[r].server : with(pre.unmatched, {{"http_route", status_route(status)}});
      l.push_back({"http_request_method", kMethods[k >> 16]});
      l.push_back({"http_response_status_code", std::to_string(status)});
      std::string ls = render_labels(std::move(l));
      emit_hist(f, "http_server_duration", ls, acc.first, kTimeBuckets);
      emit_hist(f, "http_server_response_size", ls, acc.second, kSizeBuckets);
    }
    if (r == n_routes) break;

    std::map<std::uint32_t, TimeAcc> proxy;
    for (const auto& s : shards_)
      s->routes_[r]->proxy.for_each([&](std::uint32_t k, const TimeHisto& h) { proxy[k].add(h); });
    for (const auto& [k, acc] : proxy) {
      if (acc.count() == 0) continue;
      std::string ls = render_labels(
          with(pre.routes[r].proxy,
               {{"error", bool_str(k & 1)}, {"canceled", bool_str(k & 2)}, {"complete", bool_str(k & 4)}}));
      emit_hist(f, "krakend_proxy_duration", ls, acc, kTimeBuckets);
    }

    for (std::size_t b = 0; b < pre.routes[r].backends.size(); ++b) {
      const auto& pb = pre.routes[r].backends[b];
      std::map<std::uint32_t, TimeAcc> stage;
      struct ClientAcc {
        TimeAcc duration, dns, get_conn, tls;
        SizeAcc response_size;
        double started = 0, failed = 0, canceled = 0, timedout = 0, req_size = 0, req_size_n = 0, no_cl = 0;
      };
      std::map<std::uint32_t, ClientAcc> client;
      SizeAcc read_size;
      TimeAcc read_time;
      for (const auto& s : shards_) {
        const BackendShard& bs = *s->routes_[r]->backends[b];
        bs.stage.for_each([&](std::uint32_t k, const TimeHisto& h) { stage[k].add(h); });
        bs.client.for_each([&](std::uint32_t k, const ClientCell& c) {
          ClientAcc& a = client[k];
          a.duration.add(c.duration);
          a.dns.add(c.dns);
          a.get_conn.add(c.get_conn);
          a.tls.add(c.tls);
          a.response_size.add(c.response_size);
          auto ld = [](const std::atomic<std::uint64_t>& x) {
            return static_cast<double>(x.load(std::memory_order_relaxed));
          };
          a.started += ld(c.started);
          a.failed += ld(c.failed);
          a.canceled += ld(c.canceled);
          a.timedout += ld(c.timedout);
          a.req_size += ld(c.request_size);
          a.req_size_n += ld(c.request_size_n);
          a.no_cl += ld(c.no_content_length);
        });
        read_size.add(bs.read.size);
        read_time.add(bs.read.time);
      }
      for (const auto& [k, acc] : stage) {
        if (acc.count() == 0) continue;
        std::string ls = render_labels(
            with(pb.base,
                 {{"error", bool_str(k & 1)}, {"canceled", bool_str(k & 2)}, {"complete", bool_str(k & 4)}}));
        emit_hist(f, "krakend_backend_duration", ls, acc, kTimeBuckets);
      }
      for (const auto& [k, a] : client) {
        if (a.started == 0) continue;
        std::string ls = render_labels(with(pb.client, {{"http_response_status_code", std::to_string(k)}}));
        emit_hist(f, "http_client_duration", ls, a.duration, kTimeBuckets);
        emit_value(f, "http_client_request_started_count_total", "counter", ls, a.started);
        if (a.failed) emit_value(f, "http_client_request_failed_count_total", "counter", ls, a.failed);
        if (a.canceled) emit_value(f, "http_client_request_canceled_count_total", "counter", ls, a.canceled);
        if (a.timedout) emit_value(f, "http_client_request_timedout_count_total", "counter", ls, a.timedout);
        if (a.req_size_n) emit_value(f, "http_client_request_size_total", "counter", ls, a.req_size);
        if (a.no_cl) emit_value(f, "http_client_response_no_content_length_total", "counter", ls, a.no_cl);
        if (a.response_size.count())
          emit_hist(f, "http_client_response_size", ls, a.response_size, kSizeBuckets);
        if (a.dns.count()) emit_hist(f, "http_client_request_dns_duration", ls, a.dns, kTimeBuckets);
        if (a.get_conn.count())
          emit_hist(f, "http_client_request_get_conn_duration", ls, a.get_conn, kTimeBuckets);
        if (a.tls.count()) emit_hist(f, "http_client_request_tls_duration", ls, a.tls, kTimeBuckets);
      }
      if (read_size.count()) {
        std::string ls = render_labels(pb.base);
        emit_hist(f, "http_client_response_read_size_hist", ls, read_size, kSizeBuckets);
        emit_value(f, "http_client_response_read_size_total", "counter", ls, read_size.sum);
        emit_hist(f, "http_client_response_read_time_hist_seconds", ls, read_time, kTimeBuckets);
        emit_value(f, "http_client_response_read_time_seconds_total", "counter", ls, read_time.sum);
      }
    }
  }

  f["otel_scope_info"].help = "Instrumentation Scope metadata";
  emit_value(f, "otel_scope_info", "gauge", render_labels({kScopeName, kScopeVersion}), 1);
  Attributes target{{"service_name", config_.service_name}, {"service_version", config_.service_version}};
  if (!config_.deploy_env.empty()) target.push_back({"deployment_environment", config_.deploy_env});
  f["target_info"].help = "Target metadata";
  emit_value(f, "target_info", "gauge", render_labels(std::move(target)), 1);

  // KrakenD's exporter leaves HELP empty for these; promtool's lint (a requirement here) rejects that,
  // and neither Prometheus nor the Datadog checks read HELP, so we describe them.
  for (auto& [name, fam] : f) {
    if (fam.help.empty()) fam.help = family_help(name);
  }
  std::map<std::string, std::string> text;
  for (const auto& [name, fam] : f) {
    std::string& t = text[name];
    t = "# HELP " + name + (fam.help.empty() ? "" : " " + fam.help) + "\n# TYPE " + name + ' ' + fam.type +
        '\n';
    for (const auto& [_, lines] : fam.series) t += lines;
  }
  render_process_families(text, config_.process_metrics, config_.go_metrics, workers());
  for (const auto& e : extras_) {
    if (!e.series) {
      render_gauge(text[e.name], e.name, e.help, e.type, e.value ? e.value() : 0);
      continue;
    }
    std::string& t = text[e.name];
    t = "# HELP " + e.name + (e.help.empty() ? "" : " " + e.help) + "\n# TYPE " + e.name + ' ' + e.type + '\n';
    for (const auto& [labels, value] : e.series()) t += e.name + '{' + labels + "} " + format_go_float(value) + '\n';
  }

  std::string out;
  for (const auto& [_, t] : text) out += t;
  return out;
}

}  // namespace gw::telemetry

// Per-request telemetry costs of the no-op proxy path (issue 5 §6), mirroring what
// proxy/gateway.cpp handle() and proxy/observe.cpp do for one request:
//   BM_AccessLog  one access-log line (format + queue) with dd.* correlation
//   BM_Trace      server + proxy + backend span, propagation header lines, tags, finish + submit to a
//                 real Datadog exporter (agent refused: encoding still runs, the send fails fast)
//   BM_TraceColdCache  BM_Trace after a 4 MiB read sweep (untimed) per trace, minus nothing: subtract
//                 BM_ColdCacheOnly. Closer to the server, where socket and kernel work between two
//                 requests evicts tracing's code and data (warm 1.1 us vs ~7 us cold, 3 us in the server).
//   BM_Metrics    http_server + krakend_proxy + backend + http_client records on one shard
// Run pinned to ONE cpu (taskset -c 1 ...) so the logger/exporter background threads compete with the
// loop like they do with the server worker in bench/telemetry.sh; the "Time" column is then the whole
// per-request cost including background encoding/writing.
#include <benchmark/benchmark.h>
#include <fcntl.h>

#include <string>
#include <vector>

#include "telemetry/logging.h"
#include "telemetry/metrics.h"
#include "telemetry/tracing.h"

namespace {

using namespace gw::telemetry;

void BM_AccessLog(benchmark::State& state) {
  LoggingConfig c;
  c.fd = ::open("/dev/null", O_WRONLY);
  c.dd_logs_injection = true;
  c.dd_service = "api-gateway-bench";
  c.dd_env = "bench";
  c.dd_version = "0";
  c.max_buffered_bytes = 256 << 20;
  c.flush_interval = std::chrono::milliseconds(5);
  Logger log(c, 2);
  LogCorrelation corr{0x1234567890abcdefull, 0x640cfd8d00000000ull, 0x0fedcba987654321ull};
  AccessLogEntry e{"GET", "/item", "/item", "127.0.0.1", "", 200, 412345, 84};
  for (auto _ : state) log.access(0, e, &corr);
  state.counters["dropped"] = static_cast<double>(log.dropped_lines());
}
BENCHMARK(BM_AccessLog)->UseRealTime();

struct Route {
  std::string method = "GET", normalized = "/item", route = "/item", span_resource = "GET /item";
};

// Writes through a buffer larger than L2, so the next trace starts with cold caches.
struct ColdCache {
  std::vector<char>& buf;
  void sweep() {
    long sum = 0;
    for (std::size_t i = 0; i < buf.size(); i += 64) sum += buf[i];
    benchmark::DoNotOptimize(sum);
  }
};

void trace_loop(benchmark::State& state, ColdCache* cold) {
  TracerConfig cfg;
  cfg.enabled = true;
  cfg.service = "api-gateway-bench";
  cfg.env = "bench";
  cfg.version = "0";
  ExporterOptions eo;
  eo.lanes = 1;
  auto exporter = std::shared_ptr<SpanExporter>(
      make_datadog_exporter({"127.0.0.1", 1, ""}, {cfg.service, cfg.env, cfg.version}, eo));
  Tracer tracer(cfg, exporter);
  Route r;
  const std::string_view method = "GET", target = "/item", authority = "127.0.0.1:40001";
  const std::string head = "GET /item HTTP/1.1\r\n";
  std::size_t sink = 0;
  for (auto _ : state) {
    if (cold) {
      state.PauseTiming();
      cold->sweep();
      state.ResumeTiming();
    }
    // gateway.cpp handle(): server span
    Trace trace = tracer.start_trace(extract(cfg.propagation, PropagationHeaders{}), "api-gateway.request",
                                     "", "web", now_unix_ns());
    // observe.cpp ProxyObservation
    std::size_t proxy = tracer.start_span(trace, 0, "krakend.proxy", r.route, "", now_unix_ns());
    // observe.cpp BackendObservation + RequestScope::propagation
    std::size_t span =
        tracer.start_span(trace, proxy, "http.request", r.span_resource, "http", now_unix_ns());
    thread_local detail::ByteBuffer lines;  // as RequestScope::propagation
    lines.clear();
    tracer.inject_lines(trace, span, lines);
    sink += lines.used;
    {
      Span& s = trace.spans[span];
      s.set_meta("span.kind", "client");
      s.set_meta("http.method", r.method);
      const std::size_t path_start = head.find(' ') + 1;
      const std::string_view path =
          std::string_view(head).substr(path_start, head.find(' ', path_start) - path_start);
      s.set_meta_joined("http.url", {"http://", authority, path});
      s.set_meta("http.status_code", "200");
      s.finish(now_unix_ns());
    }
    trace.spans[proxy].finish(now_unix_ns());
    // gateway.cpp handle(): root tags
    Span& root = trace.spans[0];
    root.resource = std::string(method) + " " + std::string(r.route);
    root.set_meta("span.kind", "server");
    root.set_meta("http.method", std::string(method));
    root.set_meta("http.url", std::string(target));
    root.set_meta("http.route", std::string(r.route));
    root.set_meta("http.status_code", std::to_string(200));
    root.finish(now_unix_ns());
    tracer.finish(std::move(trace), 0);
  }
  benchmark::DoNotOptimize(sink);
  state.counters["dropped"] = static_cast<double>(exporter->dropped_spans());
  exporter->shutdown();
}

void BM_Trace(benchmark::State& state) { trace_loop(state, nullptr); }
BENCHMARK(BM_Trace)->UseRealTime();

// BM_Trace with the caches cold, as in the server, where kernel and socket work between two requests
// evicts the tracing code's data: a 4 MiB read sweep (outside the timing) before each trace.
void BM_TraceColdCache(benchmark::State& state) {
  static std::vector<char> sweep(4 << 20, 1);
  ColdCache cold{sweep};
  trace_loop(state, &cold);
}
BENCHMARK(BM_TraceColdCache)->UseRealTime();

// What BM_TraceColdCache costs without a trace: subtract it.
void BM_ColdCacheOnly(benchmark::State& state) {
  static std::vector<char> sweep(4 << 20, 1);
  ColdCache cold{sweep};
  for (auto _ : state) {
    state.PauseTiming();
    cold.sweep();
    state.ResumeTiming();
  }
}
BENCHMARK(BM_ColdCacheOnly)->UseRealTime();

void BM_Metrics(benchmark::State& state) {
  MetricsConfig mc;
  mc.routes.push_back({"/item", "GET", {{"GET", "/item", "http://127.0.0.1:40001", {}}}});
  Metrics m(std::move(mc));
  MetricsShard& s = m.shard(0);
  for (auto _ : state) {
    s.client(0, 0, 200, 0.0004, ClientOutcome::ok, 0, 84, false);
    s.read(0, 0, 84, 0.0004);
    s.backend(0, 0, 0.0004, false, false, true);
    s.proxy(0, 0.0005, false, false, true);
    s.server(0, "GET", 200, 0.0006, 84);
  }
}
BENCHMARK(BM_Metrics)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();

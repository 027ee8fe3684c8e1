#include "telemetry/metrics.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "metrics_test_util.h"
#include "telemetry/metrics_internal.h"  // HistoN, for the bucket rule

namespace gw::telemetry {
namespace {

using namespace testing;

TEST(FormatGoFloat, MatchesGoStrconvG) {
  EXPECT_EQ(format_go_float(0), "0");
  EXPECT_EQ(format_go_float(1), "1");
  EXPECT_EQ(format_go_float(0.01), "0.01");
  EXPECT_EQ(format_go_float(0.075), "0.075");
  EXPECT_EQ(format_go_float(262144), "262144");
  EXPECT_EQ(format_go_float(1048576), "1.048576e+06");
  EXPECT_EQ(format_go_float(67108864), "6.7108864e+07");
  EXPECT_EQ(format_go_float(1000000), "1e+06");
  EXPECT_EQ(format_go_float(5.3416000000000005e-05), "5.3416000000000005e-05");
  EXPECT_EQ(format_go_float(0.0033482079999999997), "0.0033482079999999997");
  EXPECT_EQ(format_go_float(18446744073709551615.0), "1.8446744073709552e+19");
  EXPECT_EQ(format_go_float(1.0 / 0.0), "+Inf");
}

// Regression: the exponent was read with atoi from a buffer that is not NUL-terminated, so digits
// left on the stack by a longer number turned le="0.1" into le="1e-01" (seen once tcmalloc changed
// what the stack held).
TEST(FormatGoFloat, ExponentIsReadOnlyFromTheDigitsWritten) {
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(format_go_float(1.2345678901234568e-05), "1.2345678901234568e-05");
    EXPECT_EQ(format_go_float(0.1), "0.1");
    EXPECT_EQ(format_go_float(1.2345678901234567e+15), "1.2345678901234568e+15");
    EXPECT_EQ(format_go_float(0.3), "0.3");
    EXPECT_EQ(format_go_float(10), "10");
  }
}

TEST(NormalizeUrlPattern, LowercasesPlaceholders) {
  EXPECT_EQ(normalize_url_pattern("/users/{{.UserID}}/x"), "/users/:userid/x");
  EXPECT_EQ(normalize_url_pattern("/users/{id}"), "/users/:id");
  EXPECT_EQ(normalize_url_pattern("/valid/"), "/valid/");
}

TEST(Metrics, PromtoolAcceptsScrape) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) GTEST_SKIP() << "promtool not installed";
  Metrics m(fixture_config());
  record_fixture_traffic(m.shard(0));
  record_fixture_traffic(m.shard(1));
  m.add_extra({"gateway_trace_dropped_spans_total", "Spans dropped by the trace exporter.", "counter",
               [] { return 3.0; }});
  std::string path = ::testing::TempDir() + "scrape.prom";
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::string text = m.scrape();
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);
  std::string cmd = "promtool check metrics < " + path + " > " + path + ".out 2>&1";
  int rc = std::system(cmd.c_str());
  EXPECT_EQ(rc, 0) << read_file(path + ".out") << "\n" << text.substr(0, 2000);
}

TEST(Metrics, FamiliesAndLabelNamesMatchFixture) {
  Metrics m(fixture_config());
  record_fixture_traffic(m.shard(0));
  Exposition ours = parse_exposition(m.scrape());
  Exposition fixture = parse_exposition(fixture_text());
  ASSERT_EQ(fixture.types.size(), 59u);
  auto ours_labels = ours.label_names();
  auto fixture_labels = fixture.label_names();
  for (const auto& [family, type] : ours.types) {
    ASSERT_TRUE(fixture.types.count(family)) << "we emit a family KrakenD does not: " << family;
    EXPECT_EQ(type, fixture.types.at(family)) << family;
    EXPECT_EQ(ours_labels[family], fixture_labels[family]) << family;
  }
  // What we deliberately do not emit: Go runtime internals with no honest C++ counterpart.
  std::set<std::string> missing;
  for (const auto& [family, _] : fixture.types)
    if (!ours.types.count(family)) missing.insert(family);
  const std::set<std::string> expected_missing = {"go_gc_duration_seconds",
                                                  "go_gc_gogc_percent",
                                                  "go_gc_gomemlimit_bytes",
                                                  "go_goroutines",
                                                  "go_info",
                                                  "go_memstats_alloc_bytes_total",
                                                  "go_memstats_buck_hash_sys_bytes",
                                                  "go_memstats_frees_total",
                                                  "go_memstats_gc_sys_bytes",
                                                  "go_memstats_heap_inuse_bytes",
                                                  "go_memstats_heap_objects",
                                                  "go_memstats_heap_released_bytes",
                                                  "go_memstats_last_gc_time_seconds",
                                                  "go_memstats_mallocs_total",
                                                  "go_memstats_mcache_inuse_bytes",
                                                  "go_memstats_mcache_sys_bytes",
                                                  "go_memstats_mspan_inuse_bytes",
                                                  "go_memstats_mspan_sys_bytes",
                                                  "go_memstats_next_gc_bytes",
                                                  "go_memstats_other_sys_bytes",
                                                  "go_memstats_stack_inuse_bytes",
                                                  "go_memstats_stack_sys_bytes",
                                                  "go_memstats_sys_bytes"};
  EXPECT_EQ(missing, expected_missing);
}

TEST(Metrics, BucketsAreInclusiveUpperBounds) {
  // Prometheus `le`: a value equal to a bound counts in that bucket; above the last, in +Inf.
  detail::TimeHisto h;
  for (double v : {0.0, 0.01, 0.0100001, 0.1, 9.99, 10.0, 10.5, -1.0}) h.observe(v, kTimeBuckets.data());
  auto at = [&](std::size_t i) { return h.buckets[i].load(); };
  EXPECT_EQ(at(0), 3u);   // 0, 0.01, -1
  EXPECT_EQ(at(1), 1u);   // 0.0100001
  EXPECT_EQ(at(4), 1u);   // 0.1 (le 0.1)
  EXPECT_EQ(at(19), 2u);  // 9.99 and 10 (le 10)
  EXPECT_EQ(at(20), 1u);  // 10.5: +Inf
  std::uint64_t total = 0;
  for (std::size_t i = 0; i <= kTimeBuckets.size(); ++i) total += at(i);
  EXPECT_EQ(total, 8u);
}

TEST(Metrics, BucketBoundariesMatchFixture) {
  Metrics m(fixture_config());
  record_fixture_traffic(m.shard(0));
  Exposition ours = parse_exposition(m.scrape());
  Exposition fixture = parse_exposition(fixture_text());
  int histograms = 0;
  for (const auto& [family, type] : ours.types) {
    if (type != "histogram") continue;
    ++histograms;
    EXPECT_EQ(ours.le_values(family), fixture.le_values(family)) << family;
    EXPECT_FALSE(ours.le_values(family).empty()) << family;
  }
  EXPECT_EQ(histograms, 11);
}

TEST(Metrics, LabelValuesFollowKrakenDConventions) {
  Metrics m(fixture_config());
  record_fixture_traffic(m.shard(0));
  Exposition e = parse_exposition(m.scrape());
  const std::map<std::string, std::string> valid_client = {{"backend_type", "test_api"},
                                                           {"clientname", "/valid/"},
                                                           {"http_request_method", "GET"},
                                                           {"http_response_status_code", "200"},
                                                           {"http_route", "/valid/"},
                                                           {"krakend_endpoint_method", "GET"},
                                                           {"krakend_endpoint_route", "/api/valid"},
                                                           {"otel_scope_name", "io.krakend.krakend-otel"},
                                                           {"otel_scope_version", ""},
                                                           {"server_address", "api"},
                                                           {"server_port", "80"}};
  EXPECT_EQ(e.value("http_client_request_started_count_total", valid_client), 1);
  EXPECT_EQ(e.value("http_server_duration_count", {{"http_route", "301 Moved Permanently"}}), 1);
  EXPECT_EQ(e.value("http_client_request_timedout_count_total",
                    {{"http_route", "/timeout/"}, {"http_response_status_code", "0"}}),
            1);
  EXPECT_EQ(e.value("http_client_request_failed_count_total", {{"http_route", "/timeout/"}}), 1);
  EXPECT_EQ(e.value("http_client_request_failed_count_total", {{"http_route", "/cancelled/"}}), 0);
  EXPECT_EQ(e.value("http_client_response_no_content_length_total", {{"http_route", "/no-content-length/"}}),
            1);
  EXPECT_EQ(e.value("krakend_proxy_duration_count", {{"http_route", "/api/cancelled"},
                                                     {"canceled", "true"},
                                                     {"error", "false"},
                                                     {"complete", "false"}}),
            1);
  EXPECT_EQ(e.value("http_client_response_read_size_total", {{"http_route", "/valid/"}}), 57);
  EXPECT_EQ(e.value("target_info", {{"service_name", "krakend-gateway"}, {"service_version", "1.0.0"}}), 1);
  EXPECT_EQ(e.value("otel_scope_info", {{"otel_scope_name", "io.krakend.krakend-otel"}}), 1);
  EXPECT_EQ(e.types.at("go_memstats_heap_alloc_bytes"), "gauge");  // value is 0 under TSan (own malloc)
  EXPECT_GT(e.value("process_open_fds", {}), 0);
  EXPECT_GT(e.value("process_start_time_seconds", {}), 1.6e9);
}

TEST(Metrics, UnmatchedMethodsAreBounded) {
  Metrics m(fixture_config(1));
  m.shard(0).server(MetricsShard::kUnmatched, "BREW", 404, 0.001, 18);
  m.shard(0).server(MetricsShard::kUnmatched, "GET", 404, 0.001, 18);
  Exposition e = parse_exposition(m.scrape());
  EXPECT_EQ(e.value("http_server_duration_count",
                    {{"http_route", "404 Not Found"}, {"http_request_method", "_OTHER"}}),
            1);
  EXPECT_EQ(e.value("http_server_duration_count",
                    {{"http_route", "404 Not Found"}, {"http_request_method", "GET"}}),
            1);
}

TEST(Metrics, ServerPortQuirkAndIpv6) {
  MetricsConfig c;
  c.routes.push_back(
      {"/a", "GET", {{"GET", "/x", "http://svc", {}}, {"GET", "/y", "http://[::1]:8080", {}}}});
  Metrics m(c);
  m.shard(0).client(0, 0, 200, 0.01, ClientOutcome::ok, 0, 10);
  m.shard(0).client(0, 1, 200, 0.01, ClientOutcome::ok, 0, 10);
  Exposition e = parse_exposition(m.scrape());
  EXPECT_EQ(
      e.value("http_client_request_started_count_total", {{"server_address", "svc"}, {"server_port", "0"}}),
      1);
  EXPECT_EQ(
      e.value("http_client_request_started_count_total", {{"server_address", "::1"}, {"server_port", "80"}}),
      1);
}

TEST(Metrics, ShardsAreSummedAndManyStatusesFit) {
  Metrics m(fixture_config(3));
  for (unsigned w = 0; w < 3; ++w) {
    for (int i = 0; i <= static_cast<int>(w); ++i) m.shard(w).server(kValid, "GET", 200, 0.05, 100);
    for (int status = 200; status < 230; ++status) m.shard(w).server(kValid, "GET", status, 0.3, 1);
  }
  Exposition e = parse_exposition(m.scrape());
  EXPECT_EQ(e.value("http_server_duration_count",
                    {{"http_route", "/api/valid"}, {"http_response_status_code", "200"}}),
            6 + 3);
  EXPECT_EQ(e.value("http_server_duration_bucket",
                    {{"http_route", "/api/valid"}, {"http_response_status_code", "200"}, {"le", "0.05"}}),
            6);
  EXPECT_EQ(e.value("http_server_duration_count", {{"http_response_status_code", "229"}}), 3);
  EXPECT_EQ(e.value("http_server_response_size_sum", {{"http_response_status_code", "200"}}), 600 + 3);
}

TEST(Metrics, ConcurrentRecordingWhileScraping) {
  constexpr unsigned kThreads = 4;
  constexpr int kPerThread = 50000;
  Metrics m(fixture_config(kThreads));
  std::atomic<bool> done{false};
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      MetricsShard& s = m.shard(t);
      for (int i = 0; i < kPerThread; ++i) {
        s.server(kValid, "GET", i % 7 == 0 ? 500 : 200, 0.001 * (i % 100), 10);
        s.proxy(kValid, 0.001, false, false, true);
        s.client(kValid, 0, 200, 0.001, ClientOutcome::ok, 0, 10);
      }
    });
  }
  double last = 0;
  int scrapes = 0;
  // do/while: on a loaded machine the workers may finish before this thread is first scheduled,
  // and the test must still scrape at least once (it did not, once, under ctest -j2).
  std::thread scraper([&] {
    do {
      Exposition e = parse_exposition(m.scrape());
      double count = e.value("http_server_duration_count", {{"http_route", "/api/valid"}});
      double inf = e.value("http_server_duration_bucket", {{"http_route", "/api/valid"}, {"le", "+Inf"}});
      EXPECT_GE(count, last);  // monotonic
      EXPECT_EQ(count, inf);
      last = count;
      ++scrapes;
    } while (!done.load());
  });
  for (auto& w : workers) w.join();
  done = true;
  scraper.join();
  Exposition e = parse_exposition(m.scrape());
  EXPECT_EQ(e.value("http_server_duration_count", {{"http_route", "/api/valid"}}), kThreads * kPerThread);
  EXPECT_EQ(e.value("krakend_proxy_duration_count", {}), kThreads * kPerThread);
  EXPECT_EQ(e.value("http_client_request_started_count_total", {}), kThreads * kPerThread);
  EXPECT_GT(scrapes, 0);
}

}  // namespace
}  // namespace gw::telemetry

#include "telemetry/tracing.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>

namespace gw::telemetry {
namespace {

std::map<std::string, std::string> as_map(const std::vector<std::pair<std::string_view, std::string>>& v) {
  std::map<std::string, std::string> m;
  for (const auto& [k, val] : v) m[std::string(k)] = val;
  return m;
}

TEST(Propagation, ExtractsDatadogHeaders) {
  PropagationHeaders h;
  h.x_datadog_trace_id = "1234567890123456789";
  h.x_datadog_parent_id = "987654321";
  h.x_datadog_sampling_priority = "2";
  h.x_datadog_origin = "synthetics";
  h.x_datadog_tags = "_dd.p.dm=-4,_dd.p.tid=640cfd8d00000000,other=x";
  TraceContext c = extract(PropagationConfig{}, h);
  EXPECT_EQ(c.trace_id_low, 1234567890123456789ull);
  EXPECT_EQ(c.trace_id_high, 0x640cfd8d00000000ull);
  EXPECT_EQ(c.parent_id, 987654321u);
  EXPECT_EQ(c.sampling_priority, 2);
  EXPECT_EQ(c.origin, "synthetics");
  ASSERT_EQ(c.propagation_tags.size(), 1u);
  EXPECT_EQ(c.propagation_tags[0], (std::pair<std::string, std::string>{"_dd.p.dm", "-4"}));
}

TEST(Propagation, ExtractsW3C) {
  PropagationHeaders h;
  h.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  h.tracestate = "dd=s:2;p:0123456789abcdef;o:rum;t.dm:-4,congo=t61rcWkgMzE";
  TraceContext c = extract(PropagationConfig{}, h);
  EXPECT_EQ(c.trace_id_high, 0x4bf92f3577b34da6ull);
  EXPECT_EQ(c.trace_id_low, 0xa3ce929d0e0e4736ull);
  EXPECT_EQ(c.parent_id, 0x00f067aa0ba902b7ull);
  EXPECT_EQ(c.sampling_priority, 2);
  EXPECT_EQ(c.origin, "rum");
  EXPECT_EQ(c.tracestate_other, "congo=t61rcWkgMzE");
  EXPECT_EQ(c.datadog_parent_id, "0123456789abcdef");
  ASSERT_EQ(c.propagation_tags.size(), 1u);
  EXPECT_EQ(c.propagation_tags[0].second, "-4");
  // sampled flag 0 overrides a positive dd priority
  h.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
  EXPECT_EQ(extract(PropagationConfig{}, h).sampling_priority, 0);
  // invalid: uppercase hex, zero ids
  h.traceparent = "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01";
  EXPECT_FALSE(extract(PropagationConfig{}, h).valid());
  h.traceparent = "00-00000000000000000000000000000000-00f067aa0ba902b7-01";
  EXPECT_FALSE(extract(PropagationConfig{}, h).valid());
}

TEST(Propagation, TracestateKeepsAtMost31OtherMembers) {
  // W3C allows 32 list-members; the dd member is written first, so 31 others fit.
  PropagationHeaders h;
  h.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  std::string state = "dd=s:1";
  for (int i = 0; i < 35; ++i) state += ",v" + std::to_string(i) + "=x";
  h.tracestate = state;
  const std::string other = extract(PropagationConfig{}, h).tracestate_other;
  EXPECT_EQ(std::count(other.begin(), other.end(), '='), 31) << other;
  EXPECT_EQ(other.substr(0, 9), "v0=x,v1=x");
  EXPECT_EQ(other.substr(other.size() - 5), "v30=x");
}

TEST(Propagation, DatadogFirstThenW3CMergeOfSameTrace) {
  PropagationHeaders h;
  const std::string dd_trace_id = std::to_string(0xa3ce929d0e0e4736ull);
  h.x_datadog_trace_id = dd_trace_id;
  h.x_datadog_parent_id = "5";
  h.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  h.tracestate = "dd=s:1;p:0000000000000005,congo=x";
  TraceContext c = extract(PropagationConfig{}, h);
  EXPECT_EQ(c.trace_id_high, 0x4bf92f3577b34da6ull);
  EXPECT_EQ(c.parent_id, 0x00f067aa0ba902b7ull);  // the closest hop
  EXPECT_EQ(c.datadog_parent_id, "0000000000000005");
  EXPECT_EQ(c.tracestate_other, "congo=x");
  // tracecontext first: W3C wins outright
  PropagationConfig w3c_first;
  w3c_first.extract = {PropagationStyle::tracecontext, PropagationStyle::datadog};
  EXPECT_EQ(extract(w3c_first, h).parent_id, 0x00f067aa0ba902b7ull);
}

TEST(Propagation, InjectsBothStyles) {
  TraceContext c;
  c.trace_id_high = 0x640cfd8d00000000ull;
  c.trace_id_low = 77;
  c.parent_id = 0xabc;
  c.sampling_priority = 1;
  c.origin = "synthetics";
  c.propagation_tags = {{"_dd.p.dm", "-0"}};
  c.tracestate_other = "congo=x";
  c.baggage = "user=1";
  auto h = as_map(inject(PropagationConfig{}, c));
  EXPECT_EQ(h["x-datadog-trace-id"], "77");
  EXPECT_EQ(h["x-datadog-parent-id"], std::to_string(0xabc));
  EXPECT_EQ(h["x-datadog-sampling-priority"], "1");
  EXPECT_EQ(h["x-datadog-origin"], "synthetics");
  EXPECT_EQ(h["x-datadog-tags"], "_dd.p.dm=-0,_dd.p.tid=640cfd8d00000000");
  EXPECT_EQ(h["traceparent"], "00-640cfd8d00000000000000000000004d-0000000000000abc-01");
  EXPECT_EQ(h["tracestate"], "dd=s:1;p:0000000000000abc;o:synthetics;t.dm:-0,congo=x");
  EXPECT_EQ(h["baggage"], "user=1");
}

// dd-trace-cpp keeps tracestate's dd member within 256 characters by dropping whole t.* members.
TEST(Propagation, TracestateDdMemberStopsAt256Characters) {
  TraceContext c;
  c.trace_id_low = 1;
  c.parent_id = 2;
  c.sampling_priority = 1;
  for (int i = 0; i < 8; ++i)
    c.propagation_tags.emplace_back("_dd.p.k" + std::to_string(i), std::string(40, 'v'));
  const std::string ts = as_map(inject(PropagationConfig{}, c))["tracestate"];
  EXPECT_LE(ts.size(), 256u);
  EXPECT_GT(ts.size(), 200u);
  EXPECT_EQ(ts.substr(ts.size() - 40), std::string(40, 'v'));  // ends with a whole member
  EXPECT_EQ(ts.find("t.k7"), std::string::npos);
}

TEST(Propagation, DatadogTagsLongerThanTheLimitAreNotSent) {
  TraceContext c;
  c.trace_id_low = 1;
  c.parent_id = 2;
  c.sampling_priority = 1;
  c.propagation_tags = {{"_dd.p.dm", "-4"}, {"_dd.p.usr", std::string(40, 'u')}};
  PropagationConfig cfg;
  cfg.tags_max_length = 30;
  auto h = as_map(inject(cfg, c));
  EXPECT_EQ(h.count("x-datadog-tags"), 0u);
  EXPECT_EQ(h["x-datadog-trace-id"], "1");
  EXPECT_EQ(h["x-datadog-sampling-priority"], "1");
  cfg.tags_max_length = 512;
  EXPECT_EQ(as_map(inject(cfg, c))["x-datadog-tags"], "_dd.p.dm=-4,_dd.p.usr=" + std::string(40, 'u'));
}

TEST(Propagation, StylesFromEnv) {
  std::map<std::string, std::string> env{{"DD_TRACE_PROPAGATION_STYLE", "tracecontext"},
                                         {"DD_TRACE_PROPAGATION_STYLE_INJECT", "Datadog, tracecontext"}};
  auto get = [&](const char* k) -> const char* { return env.count(k) ? env[k].c_str() : nullptr; };
  PropagationConfig c = PropagationConfig::from_env(get);
  EXPECT_EQ(c.extract, std::vector<PropagationStyle>{PropagationStyle::tracecontext});
  EXPECT_EQ(c.inject,
            (std::vector<PropagationStyle>{PropagationStyle::datadog, PropagationStyle::tracecontext}));
  env = {{"DD_TRACE_PROPAGATION_STYLE_EXTRACT", "none"}};
  EXPECT_TRUE(PropagationConfig::from_env(get).extract.empty());
  PropagationHeaders h;
  h.x_datadog_trace_id = "1";
  EXPECT_FALSE(extract(PropagationConfig::from_env(get), h).valid());
}

class CapturingExporter : public SpanExporter {
 public:
  void submit(std::span<const Span> t, unsigned) override { traces.emplace_back(t.begin(), t.end()); }
  std::uint64_t dropped_spans() const override { return 0; }
  std::uint64_t sent_spans() const override { return 0; }
  void shutdown() override {}
  std::vector<std::vector<Span>> traces;
};

// A span's tag as the encoders write it: its own, else the tracer's shared ones.
std::string meta(const Span& s, const std::string& k) {
  for (const auto& [key, v] : s.meta)
    if (key == k) return std::string(v);
  if (s.shared)
    for (const auto& [key, v] : s.shared->meta)
      if (key == k) return v;
  return "<absent>";
}
double metric(const Span& s, const std::string& k) {
  for (const auto& [key, v] : s.metrics)
    if (key == k) return v;
  if (s.shared)
    for (const auto& [key, v] : s.shared->metrics)
      if (key == k) return v;
  return -999;
}

TEST(Tracer, ContinuesIncomingTraceAndTagsLocalRoot) {
  auto exp = std::make_shared<CapturingExporter>();
  TracerConfig cfg;
  cfg.enabled = true;
  cfg.env = "prod";
  cfg.version = "1.0.0";
  Tracer tracer(cfg, exp);
  PropagationHeaders h;
  h.x_datadog_trace_id = "111";
  h.x_datadog_parent_id = "222";
  h.x_datadog_sampling_priority = "1";
  h.x_datadog_tags = "_dd.p.dm=-1,_dd.p.tid=640cfd8d00000000";
  Trace t = tracer.start_trace(extract(cfg.propagation, h), "krakend.request", "GET /api/valid", "web", 1000);
  std::size_t proxy = tracer.start_span(t, 0, "krakend.proxy", "GET /api/valid", "", 1100);
  std::size_t client = tracer.start_span(t, proxy, "http.request", "GET /valid/", "http", 1200);
  auto out = as_map(tracer.inject(t, client));
  EXPECT_EQ(out["x-datadog-trace-id"], "111");
  EXPECT_EQ(out["x-datadog-parent-id"], std::to_string(t.spans[client].span_id));
  EXPECT_EQ(out["x-datadog-tags"], "_dd.p.dm=-1,_dd.p.tid=640cfd8d00000000");
  for (auto& s : t.spans) s.finish(2000);
  tracer.finish(std::move(t), 0);
  ASSERT_EQ(exp->traces.size(), 1u);
  const auto& spans = exp->traces[0];
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans[0].trace_id_low, 111u);
  EXPECT_EQ(spans[0].parent_id, 222u);
  EXPECT_EQ(spans[1].parent_id, spans[0].span_id);
  EXPECT_EQ(spans[2].parent_id, spans[1].span_id);
  EXPECT_EQ(spans[0].duration_ns, 1000);
  EXPECT_EQ(metric(spans[0], "_sampling_priority_v1"), 1);
  EXPECT_EQ(meta(spans[0], "_dd.p.tid"), "640cfd8d00000000");
  EXPECT_EQ(meta(spans[0], "_dd.p.dm"), "-1");
  EXPECT_EQ(meta(spans[2], "env"), "prod");
  EXPECT_EQ(meta(spans[2], "language"), "cpp");
  EXPECT_EQ(meta(spans[2], "runtime-id").size(), 36u);
  EXPECT_GT(metric(spans[1], "process_id"), 0);
}

TEST(Tracer, NewTraceIs128BitAndKeptByDefault) {
  auto exp = std::make_shared<CapturingExporter>();
  TracerConfig cfg;
  cfg.enabled = true;
  Tracer tracer(cfg, exp);
  Trace t = tracer.start_trace({}, "krakend.request", "GET /", "web", now_unix_ns());
  EXPECT_NE(t.spans[0].trace_id_high, 0u);
  EXPECT_NE(t.spans[0].trace_id_low, 0u);
  EXPECT_EQ(t.spans[0].parent_id, 0u);
  tracer.finish(std::move(t), 0);
  EXPECT_EQ(meta(exp->traces[0][0], "_dd.p.dm"), "-0");
  EXPECT_EQ(metric(exp->traces[0][0], "_sampling_priority_v1"), 1);
}

// The headers written into backend requests (inject_lines) are the ones inject() gives for the
// same context, including the sampling decision made by this process (_dd.p.dm, t.dm).
TEST(Tracer, InjectedLinesMatchInjectAndCarryTheLocalDecision) {
  auto exp = std::make_shared<CapturingExporter>();
  TracerConfig cfg;
  cfg.enabled = true;
  Tracer tracer(cfg, exp);
  Trace t = tracer.start_trace({}, "krakend.request", "GET /", "web", now_unix_ns());
  const std::size_t child = tracer.start_span(t, 0, "http.request", "GET /b", "http", now_unix_ns());
  detail::ByteBuffer buffer;
  tracer.inject_lines(t, child, buffer);
  const std::string lines(buffer.view());
  std::string expected;
  for (const auto& [name, value] : tracer.inject(t, child))
    expected.append(name).append(": ").append(value).append("\r\n");
  EXPECT_EQ(lines, expected);
  EXPECT_NE(lines.find("x-datadog-tags: _dd.p.dm=-0,_dd.p.tid="), std::string::npos) << lines;
  EXPECT_NE(lines.find(";t.dm:-0\r\n"), std::string::npos) << lines;
  EXPECT_NE(lines.find("x-datadog-parent-id: " + std::to_string(t.spans[child].span_id) + "\r\n"),
            std::string::npos);
  tracer.finish(std::move(t), 0);
}

// Spans are recycled per thread after finish(): the next trace must start from clean spans (no tags,
// error flag, parent or resource of the previous request).
TEST(Tracer, RecycledSpansCarryNothingFromThePreviousTrace) {
  auto exp = std::make_shared<CapturingExporter>();
  TracerConfig cfg;
  cfg.enabled = true;
  Tracer tracer(cfg, exp);
  PropagationHeaders h;
  h.x_datadog_trace_id = "111";
  h.x_datadog_parent_id = "222";
  h.x_datadog_origin = "synthetics";
  Trace first =
      tracer.start_trace(extract(cfg.propagation, h), "first", "GET /first/with/a/long/route", "web", 10);
  const std::size_t child = tracer.start_span(first, 0, "child", "GET /child/with/a/long/route", "http", 11);
  first.spans[0].set_meta("only.first", "x");
  first.spans[child].set_meta("http.status_code", "503");
  first.spans[child].set_metric("only.first.metric", 1);
  first.spans[child].error = 1;
  for (auto& s : first.spans) s.finish(20);
  tracer.finish(std::move(first), 0);

  Trace second = tracer.start_trace({}, "second", "GET /", "web", 30);
  const std::size_t second_child = tracer.start_span(second, 0, "second.child", "GET /b", "http", 31);
  EXPECT_EQ(second.spans[0].parent_id, 0u);
  EXPECT_NE(second.spans[0].trace_id_low, 111u);
  tracer.finish(std::move(second), 0);
  ASSERT_EQ(exp->traces.size(), 2u);
  const auto& spans = exp->traces[1];
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].resource, "GET /");
  EXPECT_EQ(spans[second_child].resource, "GET /b");
  EXPECT_EQ(spans[second_child].name, "second.child");
  EXPECT_EQ(spans[second_child].error, 0);
  EXPECT_EQ(spans[second_child].duration_ns, 0);
  EXPECT_TRUE(spans[second_child].meta.empty());
  EXPECT_TRUE(spans[second_child].metrics.empty());
  EXPECT_EQ(meta(spans[0], "only.first"), "<absent>");
  EXPECT_EQ(meta(spans[0], "_dd.origin"), "<absent>");
}

// Span timestamps come from steady_clock readings: Unix time now, and spacing kept exactly.
TEST(Tracer, UnixTimeOfSteadyReadings) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::int64_t wall = now_unix_ns();
  EXPECT_LT(std::llabs(unix_ns_at(t0) - wall), 5'000'000);    // 5 ms: two clock reads apart
  const auto earlier = t0 - std::chrono::milliseconds(1500);  // older than the last refresh
  EXPECT_EQ(unix_ns_at(t0) - unix_ns_at(earlier), 1'500'000'000);
}

TEST(Tracer, SampleRateZeroRejectsButStillSends) {
  auto exp = std::make_shared<CapturingExporter>();
  TracerConfig cfg;
  cfg.enabled = true;
  cfg.sample_rate = 0;
  Tracer tracer(cfg, exp);
  tracer.finish(tracer.start_trace({}, "r", "r", "web", 1), 0);
  ASSERT_EQ(exp->traces.size(), 1u);  // P0/-1 traces are sent so the agent's stats stay right
  EXPECT_EQ(metric(exp->traces[0][0], "_sampling_priority_v1"), -1);
  EXPECT_EQ(metric(exp->traces[0][0], "_dd.rule_psr"), 0);
}

TEST(TagList, EncodedEntriesAppendInOneCopy) {
  TagList<std::string_view> constant;
  constant.add("span.kind", "client");
  constant.add("http.method", "GET");
  TagList<std::string_view> tags;
  tags.add("a", "1");
  tags.add_encoded(constant.encoded(), static_cast<std::uint32_t>(constant.size()));
  tags.add("b", "2");
  std::vector<std::pair<std::string, std::string>> seen;
  for (auto [k, v] : tags) seen.emplace_back(k, v);
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, std::string>>{
                      {"a", "1"}, {"span.kind", "client"}, {"http.method", "GET"}, {"b", "2"}}));
  EXPECT_EQ(tags.size(), 4u);
}

TEST(RateLimiter, TokenBucketAndEffectiveRate) {
  using namespace std::chrono_literals;
  const auto t0 = RateLimiter::Clock::now();
  RateLimiter limiter(3, t0);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.allow(t0).allowed) << i;
  RateLimiter::Result r = limiter.allow(t0);
  EXPECT_FALSE(r.allowed);
  EXPECT_DOUBLE_EQ(r.effective_rate, 0.75);         // 3 of 4 in this second
  EXPECT_FALSE(limiter.allow(t0 + 100ms).allowed);  // 0.3 tokens back: not one yet
  EXPECT_TRUE(limiter.allow(t0 + 400ms).allowed);   // 1.2 tokens
  // Next second: its own ratio averaged with the previous second's (4 of 6).
  r = limiter.allow(t0 + 1400ms);
  EXPECT_TRUE(r.allowed);
  EXPECT_DOUBLE_EQ(r.effective_rate, (1.0 + 4.0 / 6.0) / 2);
  RateLimiter none(0, t0);
  EXPECT_FALSE(none.allow(t0 + 5s).allowed);
}

TEST(Tracer, RuleSampledTracesPastTheRateLimitAreDropped) {
  auto exp = std::make_shared<CapturingExporter>();
  TracerConfig cfg;
  cfg.enabled = true;
  cfg.sample_rate = 1;
  cfg.rate_limit = 2;
  Tracer tracer(cfg, exp);
  for (int i = 0; i < 5; ++i) tracer.finish(tracer.start_trace({}, "r", "r", "web", 1), 0);
  ASSERT_EQ(exp->traces.size(), 5u);  // dropped traces are still sent, with priority -1
  int kept = 0;
  for (const auto& trace : exp->traces) {
    const double priority = metric(trace[0], "_sampling_priority_v1");
    EXPECT_TRUE(priority == 2 || priority == -1) << priority;
    kept += priority == 2;
    EXPECT_GT(metric(trace[0], "_dd.limit_psr"), 0);
    EXPECT_EQ(metric(trace[0], "_dd.rule_psr"), 1);
  }
  EXPECT_EQ(kept, 2);
  // Without a rule (agent rates) the limiter is not consulted.
  auto exp2 = std::make_shared<CapturingExporter>();
  cfg.sample_rate = -1;
  Tracer agent_rates(cfg, exp2);
  for (int i = 0; i < 5; ++i) agent_rates.finish(agent_rates.start_trace({}, "r", "r", "web", 1), 0);
  for (const auto& trace : exp2->traces) {
    EXPECT_EQ(metric(trace[0], "_sampling_priority_v1"), 1);
    EXPECT_EQ(metric(trace[0], "_dd.limit_psr"), -999) << "absent";
  }
}

TEST(Tracer, ConfigFromEnv) {
  std::map<std::string, std::string> env{
      {"DD_TRACE_ENABLED", "true"},    {"DD_SERVICE", "gw"},          {"DD_ENV", "prod"}, {"DD_VERSION", "2"},
      {"DD_TAGS", "team:edge,tier:1"}, {"DD_TRACE_RATE_LIMIT", "7.5"}};
  auto get = [&](const char* k) -> const char* { return env.count(k) ? env[k].c_str() : nullptr; };
  TracerConfig c = TracerConfig::from_env(get);
  EXPECT_TRUE(c.enabled);
  EXPECT_EQ(c.service, "gw");
  EXPECT_EQ(c.env, "prod");
  EXPECT_EQ(c.version, "2");
  ASSERT_EQ(c.tags.size(), 2u);
  EXPECT_EQ(c.tags[1].second, "1");
  EXPECT_EQ(c.rate_limit, 7.5);
  env.erase("DD_TRACE_ENABLED");
  EXPECT_FALSE(TracerConfig::from_env(get).enabled);
}

}  // namespace
}  // namespace gw::telemetry

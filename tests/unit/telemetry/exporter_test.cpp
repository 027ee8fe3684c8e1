#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <thread>
#include <variant>

#include "receiver.h"
#include "telemetry/tracing.h"

namespace gw::telemetry {
namespace {

// Minimal msgpack decoder: enough to read back what encode_v04_msgpack writes.
struct Node {
  std::variant<std::monostate, std::uint64_t, std::int64_t, double, std::string, std::vector<Node>,
               std::vector<std::pair<Node, Node>>>
      v;
  const Node& at(const std::string& key) const {
    for (const auto& [k, val] : std::get<6>(v))
      if (std::get<std::string>(k.v) == key) return val;
    throw std::out_of_range(key);
  }
  std::uint64_t u() const {
    return std::holds_alternative<std::int64_t>(v) ? std::get<2>(v) : std::get<1>(v);
  }
};

struct Decoder {
  std::string_view s;
  std::size_t i = 0;
  std::uint64_t be(int n) {
    std::uint64_t x = 0;
    while (n--) x = x << 8 | static_cast<unsigned char>(s.at(i++));
    return x;
  }
  Node str(std::size_t n) {
    Node r{std::string(s.substr(i, n))};
    i += n;
    return r;
  }
  Node arr(std::size_t n) {
    std::vector<Node> a;
    while (n--) a.push_back(next());
    return Node{std::move(a)};
  }
  Node map(std::size_t n) {
    std::vector<std::pair<Node, Node>> m;
    while (n--) {
      Node k = next();
      m.emplace_back(std::move(k), next());
    }
    return Node{std::move(m)};
  }
  Node next() {
    unsigned b = static_cast<unsigned char>(s.at(i++));
    if (b < 0x80) return Node{std::uint64_t(b)};
    if (b >= 0xe0) return Node{std::int64_t(static_cast<std::int8_t>(b))};
    if ((b & 0xe0) == 0xa0) return str(b & 0x1f);
    if ((b & 0xf0) == 0x90) return arr(b & 0x0f);
    if ((b & 0xf0) == 0x80) return map(b & 0x0f);
    switch (b) {
      case 0xcc:
        return Node{be(1)};
      case 0xcd:
        return Node{be(2)};
      case 0xce:
        return Node{be(4)};
      case 0xcf:
        return Node{be(8)};
      case 0xd0:
        return Node{std::int64_t(static_cast<std::int8_t>(be(1)))};
      case 0xd1:
        return Node{std::int64_t(static_cast<std::int16_t>(be(2)))};
      case 0xd2:
        return Node{std::int64_t(static_cast<std::int32_t>(be(4)))};
      case 0xd3:
        return Node{static_cast<std::int64_t>(be(8))};
      case 0xcb: {
        std::uint64_t bits = be(8);
        double d;
        std::memcpy(&d, &bits, 8);
        return Node{d};
      }
      case 0xd9:
        return str(be(1));
      case 0xda:
        return str(be(2));
      case 0xdb:
        return str(be(4));
      case 0xdc:
        return arr(be(2));
      case 0xdd:
        return arr(be(4));
      case 0xde:
        return map(be(2));
      case 0xdf:
        return map(be(4));
    }
    throw std::runtime_error("unsupported msgpack byte");
  }
};

Span sample_span() {
  Span s;
  s.trace_id_low = 0xfedcba9876543210ull;
  s.trace_id_high = 0x640cfd8d00000000ull;
  s.span_id = 0x1234567890abcdefull;
  s.parent_id = 42;
  s.name = "krakend.request";
  s.service = "api-gateway";
  s.resource = std::string(300, 'r');  // str16
  s.type = "web";
  s.start_ns = 1754560000123456789;
  s.duration_ns = 1500;
  s.error = 1;
  s.set_meta("http.method", "GET");
  s.set_meta("_dd.p.tid", hex16(s.trace_id_high));
  s.set_metric("_sampling_priority_v1", 1);
  s.set_metric("neg", -2.5);
  return s;
}

TEST(Msgpack, SpanRoundTrip) {
  std::string bytes = encode_v04_msgpack({{sample_span(), sample_span()}});
  Decoder d{bytes};
  Node root = d.next();
  EXPECT_EQ(d.i, bytes.size());
  const auto& traces = std::get<std::vector<Node>>(root.v);
  ASSERT_EQ(traces.size(), 1u);
  const auto& spans = std::get<std::vector<Node>>(traces[0].v);
  ASSERT_EQ(spans.size(), 2u);
  const Node& s = spans[0];
  EXPECT_EQ(std::get<6>(s.v).size(), 12u);
  EXPECT_EQ(std::get<std::string>(std::get<6>(s.v)[0].first.v), "service");  // dd-trace-cpp key order
  EXPECT_EQ(std::get<std::string>(s.at("service").v), "api-gateway");
  EXPECT_EQ(std::get<std::string>(s.at("resource").v), std::string(300, 'r'));
  EXPECT_EQ(s.at("trace_id").u(), 0xfedcba9876543210ull);
  EXPECT_EQ(s.at("span_id").u(), 0x1234567890abcdefull);
  EXPECT_EQ(s.at("parent_id").u(), 42u);
  EXPECT_EQ(s.at("start").u(), 1754560000123456789ull);
  EXPECT_EQ(s.at("duration").u(), 1500u);
  EXPECT_EQ(s.at("error").u(), 1u);
  EXPECT_EQ(std::get<std::string>(s.at("meta").at("_dd.p.tid").v), "640cfd8d00000000");
  EXPECT_EQ(std::get<double>(s.at("metrics").at("neg").v), -2.5);
  EXPECT_EQ(std::get<std::string>(s.at("type").v), "web");
}

// The encoder writes a whole trace against one size bound, without per-value checks: the widest form
// of every field (9-byte integers, str32 strings, many tags) must still fit, appended to a buffer that
// is already full (so the bound decides the room).
TEST(Msgpack, WidestSpanFitsTheEncodersBound) {
  Span s;
  s.trace_id_low = s.span_id = s.parent_id = ~0ull;
  s.start_ns = INT64_MIN;
  s.duration_ns = INT64_MIN;
  s.error = INT32_MIN;
  s.service = "api-gateway";
  s.name = "krakend.request";
  s.type = "web";
  s.resource = std::string(70000, 'r');  // str32
  for (int i = 0; i < 40; ++i) s.set_meta("k" + std::to_string(i), std::string(i * 10, 'v'));
  for (int i = 0; i < 20; ++i) s.set_metric("m" + std::to_string(i), -1.5 * i);
  std::vector<Span> trace(3, s);
  detail::ByteBuffer buffer{std::string(7, 'x'), 7};
  detail::encode_v04_trace_at(buffer, trace);
  const std::string& out = buffer.bytes;
  const std::size_t used = buffer.used;
  ASSERT_LE(used, out.size());
  Decoder d{std::string_view(out).substr(7, used - 7)};
  Node root = d.next();
  EXPECT_EQ(d.i, used - 7);
  const auto& spans = std::get<std::vector<Node>>(root.v);
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(std::get<std::string>(spans[2].at("resource").v).size(), 70000u);
  EXPECT_EQ(std::get<6>(spans[2].at("meta").v).size(), 40u);
  EXPECT_EQ(std::get<double>(spans[2].at("metrics").at("m3").v), -4.5);
  EXPECT_EQ(std::get<std::int64_t>(spans[0].at("start").v), INT64_MIN);
}

TEST(Msgpack, SharedTagsAreWrittenIntoEverySpansMaps) {
  SharedTags shared;
  shared.add_meta("language", "cpp");
  shared.add_meta("env", "prod");
  shared.add_metric("process_id", 4242);
  Span a = sample_span(), b = sample_span();
  a.shared = b.shared = &shared;
  std::string bytes = encode_v04_msgpack({{a, b}});
  Decoder d{bytes};
  Node root = d.next();
  EXPECT_EQ(d.i, bytes.size()) << "map sizes must count the shared pairs";
  for (const Node& s : std::get<std::vector<Node>>(std::get<std::vector<Node>>(root.v)[0].v)) {
    EXPECT_EQ(std::get<6>(s.at("meta").v).size(), 4u);
    EXPECT_EQ(std::get<std::string>(s.at("meta").at("http.method").v), "GET");
    EXPECT_EQ(std::get<std::string>(s.at("meta").at("language").v), "cpp");
    EXPECT_EQ(std::get<std::string>(s.at("meta").at("env").v), "prod");
    EXPECT_EQ(std::get<6>(s.at("metrics").v).size(), 3u);
    EXPECT_EQ(std::get<double>(s.at("metrics").at("process_id").v), 4242);
    EXPECT_EQ(std::get<double>(s.at("metrics").at("neg").v), -2.5);
  }
  const std::string otlp = encode_otlp_json({{a}}, {"api-gateway", "prod", "1"});
  EXPECT_NE(otlp.find(R"({"key":"language","value":{"stringValue":"cpp"}})"), std::string::npos) << otlp;
  EXPECT_NE(otlp.find(R"({"key":"process_id","value":{"doubleValue":4242}})"), std::string::npos) << otlp;
}

TEST(Endpoint, FromEnv) {
  std::map<std::string, std::string> env{{"DD_AGENT_HOST", "10.0.0.7"}, {"DD_TRACE_AGENT_PORT", "9126"}};
  auto get = [&](const char* k) -> const char* { return env.count(k) ? env[k].c_str() : nullptr; };
  Endpoint e = Endpoint::datadog_from_env(get);
  EXPECT_EQ(e.host, "10.0.0.7");
  EXPECT_EQ(e.port, 9126);
  env["DD_TRACE_AGENT_URL"] = "unix:///var/run/datadog/apm.socket";
  EXPECT_EQ(Endpoint::datadog_from_env(get).unix_path, "/var/run/datadog/apm.socket");
  env["DD_TRACE_AGENT_URL"] = "http://datadog-agent.datadog.svc:8126";
  e = Endpoint::datadog_from_env(get);
  EXPECT_EQ(e.host, "datadog-agent.datadog.svc");
  EXPECT_EQ(e.port, 8126);
  EXPECT_TRUE(e.unix_path.empty());
}

ExporterOptions fast_options() {
  ExporterOptions o;
  o.lanes = 2;
  o.flush_interval = std::chrono::milliseconds(50);
  o.timeout = std::chrono::milliseconds(300);
  o.max_queued_spans = 100;
  return o;
}

TEST(DatadogExporter, SendsV04WithAgentHeaders) {
  testing::Receiver agent(testing::Receiver::Mode::respond,
                          R"({"rate_by_service":{"service:api-gateway,env:prod":0.25,"service:,env:":1}})");
  auto exp =
      make_datadog_exporter({"127.0.0.1", agent.port(), ""}, {"api-gateway", "prod", "1.0"}, fast_options());
  exp->submit(std::vector<Span>{sample_span(), sample_span()}, 0);
  exp->submit(std::vector<Span>{sample_span()}, 1);
  auto reqs = agent.wait_for(1, std::chrono::seconds(5));
  ASSERT_FALSE(reqs.empty());
  const auto& r = reqs[0];
  EXPECT_EQ(r.target(), "/v0.4/traces");
  EXPECT_EQ(r.method(), boost::beast::http::verb::put);
  EXPECT_EQ(r["Content-Type"], "application/msgpack");
  EXPECT_EQ(r["Datadog-Meta-Lang"], "cpp");
  EXPECT_FALSE(r["Datadog-Meta-Tracer-Version"].empty());
  EXPECT_FALSE(r["Datadog-Meta-Lang-Version"].empty());
  EXPECT_TRUE(r["Datadog-Client-Computed-Stats"].empty());
  std::size_t traces = 0;
  for (const auto& q : reqs) {
    Decoder d{q.body()};
    auto n = std::get<std::vector<Node>>(d.next().v).size();
    EXPECT_EQ(q["X-Datadog-Trace-Count"], std::to_string(n));
    traces += n;
  }
  EXPECT_EQ(traces, 2u);
  exp->shutdown();
  EXPECT_EQ(exp->sent_spans(), 3u);
  EXPECT_EQ(exp->dropped_spans(), 0u);
  EXPECT_DOUBLE_EQ(exp->agent_sample_rate(), 0.25);
}

// Flushes reuse one keep-alive connection (no connect, resolve or resolver thread per flush).
TEST(DatadogExporter, ReusesTheAgentConnection) {
  testing::Receiver agent(testing::Receiver::Mode::keep_alive);
  auto exp = make_datadog_exporter({"127.0.0.1", agent.port(), ""}, {"svc", "", ""}, fast_options());
  for (std::size_t i = 1; i <= 3; ++i) {
    exp->submit(std::vector<Span>{sample_span()}, 0);
    ASSERT_GE(agent.wait_for(i, std::chrono::seconds(5)).size(), i);
  }
  exp->shutdown();
  EXPECT_EQ(exp->sent_spans(), 3u);
  EXPECT_EQ(agent.connections(), 1u);
}

// The agent closes a kept-alive connection between flushes: the next flush reconnects and loses nothing.
TEST(DatadogExporter, ReconnectsWhenTheAgentDroppedAnIdleConnection) {
  testing::Receiver agent(testing::Receiver::Mode::drop_idle);
  auto exp = make_datadog_exporter({"127.0.0.1", agent.port(), ""}, {"svc", "", ""}, fast_options());
  for (std::size_t i = 1; i <= 3; ++i) {
    exp->submit(std::vector<Span>{sample_span()}, 0);
    ASSERT_GE(agent.wait_for(i, std::chrono::seconds(5)).size(), i);
    std::this_thread::sleep_for(std::chrono::milliseconds(120));  // the close reaches the client first
  }
  exp->shutdown();
  EXPECT_EQ(exp->sent_spans(), 3u);
  EXPECT_EQ(exp->dropped_spans(), 0u);
  EXPECT_EQ(agent.wait_for(3, std::chrono::seconds(1)).size(), 3u);
}

// The agent is down (connection refused) or accepts and never answers: submit() keeps returning at
// once, spans beyond the queue bound are dropped and counted.
void expect_never_blocks(std::uint16_t port) {
  auto exp = make_datadog_exporter({"127.0.0.1", port, ""}, {"svc", "", ""}, fast_options());
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 2000; ++i) exp->submit(std::vector<Span>{sample_span()}, static_cast<unsigned>(i % 2));
  const auto submit_time = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(submit_time, std::chrono::seconds(2));  // generous: only proves no per-submit network wait
  exp->shutdown();
  EXPECT_GE(exp->dropped_spans(), 2000u - 2 * 100u);
  EXPECT_EQ(exp->sent_spans(), 0u);
  EXPECT_EQ(exp->dropped_spans() + exp->sent_spans(), 2000u);
}

TEST(DatadogExporter, AgentDownDoesNotBlock) {
  std::uint16_t port;
  {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }  // closed: nothing listens there now
  expect_never_blocks(port);
}

TEST(DatadogExporter, HangingAgentDoesNotBlock) {
  testing::Receiver agent(testing::Receiver::Mode::hang);
  expect_never_blocks(agent.port());
}

TEST(OtlpExporter, PostsJsonTraces) {
  testing::Receiver collector;
  auto exp = make_otlp_http_exporter({"127.0.0.1", collector.port(), ""}, {"api-gateway", "prod", "1.2"},
                                     fast_options());
  exp->submit(std::vector<Span>{sample_span()}, 0);
  auto reqs = collector.wait_for(1, std::chrono::seconds(5));
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method(), boost::beast::http::verb::post);
  EXPECT_EQ(reqs[0].target(), "/v1/traces");
  EXPECT_EQ(reqs[0]["Content-Type"], "application/json");
  auto v = boost::json::parse(reqs[0].body());
  const auto& rs = v.at("resourceSpans").at(0);
  EXPECT_EQ(rs.at("resource").at("attributes").at(0).at("value").at("stringValue"), "api-gateway");
  const auto& span = rs.at("scopeSpans").at(0).at("spans").at(0);
  EXPECT_EQ(span.at("traceId"), "640cfd8d00000000fedcba9876543210");
  EXPECT_EQ(span.at("spanId"), "1234567890abcdef");
  EXPECT_EQ(span.at("parentSpanId"), "000000000000002a");
  EXPECT_EQ(span.at("kind"), 2);
  EXPECT_EQ(span.at("startTimeUnixNano"), "1754560000123456789");
  EXPECT_EQ(span.at("endTimeUnixNano"), "1754560000123458289");
  EXPECT_EQ(span.at("status").at("code"), 2);
}

}  // namespace
}  // namespace gw::telemetry

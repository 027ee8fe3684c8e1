// Wire encodings of finished spans: Datadog v0.4 msgpack and OTLP/HTTP JSON.
#include <charconv>

#include "telemetry/encoding.h"
#include "telemetry/tracing.h"

namespace gw::telemetry {

using detail::json_string_into;
using detail::MsgpackWriter;

std::string encode_v04_msgpack(const std::vector<std::vector<Span>>& traces) {
  std::string out;
  MsgpackWriter w(out);
  w.array(static_cast<std::uint32_t>(traces.size()));
  for (const auto& trace : traces) {
    w.array(static_cast<std::uint32_t>(trace.size()));
    for (const Span& s : trace) {
      // Same 12 keys, same order as dd-trace-cpp's span_data.cpp.
      w.map(12);
      w.str("service");
      w.str(s.service);
      w.str("name");
      w.str(s.name);
      w.str("resource");
      w.str(s.resource);
      w.str("trace_id");
      w.u64(s.trace_id_low);
      w.str("span_id");
      w.u64(s.span_id);
      w.str("parent_id");
      w.u64(s.parent_id);
      w.str("start");
      w.i64(s.start_ns);
      w.str("duration");
      w.i64(s.duration_ns);
      w.str("error");
      w.i64(s.error);
      w.str("meta");
      w.map(static_cast<std::uint32_t>(s.meta.size()));
      for (const auto& [k, v] : s.meta) {
        w.str(k);
        w.str(v);
      }
      w.str("metrics");
      w.map(static_cast<std::uint32_t>(s.metrics.size()));
      for (const auto& [k, v] : s.metrics) {
        w.str(k);
        w.f64(v);
      }
      w.str("type");
      w.str(s.type);
    }
  }
  return out;
}

namespace {

void kv_string(std::string& out, std::string_view k, std::string_view v) {
  out += "{\"key\":";
  json_string_into(out, k);
  out += ",\"value\":{\"stringValue\":";
  json_string_into(out, v);
  out += "}}";
}

void kv_double(std::string& out, std::string_view k, double v) {
  out += "{\"key\":";
  json_string_into(out, k);
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out += ",\"value\":{\"doubleValue\":";
  out.append(buf, r.ptr);
  out += "}}";
}

int otlp_kind(const Span& s) {
  if (s.type == "web") return 2;   // SPAN_KIND_SERVER
  if (s.type == "http") return 3;  // SPAN_KIND_CLIENT
  return 1;                        // SPAN_KIND_INTERNAL
}

}  // namespace

std::string encode_otlp_json(const std::vector<std::vector<Span>>& traces, const ServiceInfo& info) {
  std::string out = "{\"resourceSpans\":[{\"resource\":{\"attributes\":[";
  kv_string(out, "service.name", info.service);
  if (!info.version.empty()) out += ',', kv_string(out, "service.version", info.version);
  if (!info.env.empty()) out += ',', kv_string(out, "deployment.environment", info.env);
  out += "]},\"scopeSpans\":[{\"scope\":{\"name\":\"io.krakend.krakend-otel\",\"version\":\"\"},\"spans\":[";
  bool first = true;
  for (const auto& trace : traces) {
    for (const Span& s : trace) {
      if (!first) out += ',';
      first = false;
      // OTLP/JSON ids are hex strings; 64-bit integers (timestamps) are decimal strings.
      out += "{\"traceId\":\"" + hex16(s.trace_id_high) + hex16(s.trace_id_low) + "\",\"spanId\":\"" +
             hex16(s.span_id) + "\",\"parentSpanId\":\"" + (s.parent_id ? hex16(s.parent_id) : "") +
             "\",\"name\":";
      json_string_into(out, s.name);
      out += ",\"kind\":" + std::to_string(otlp_kind(s)) + ",\"startTimeUnixNano\":\"" +
             std::to_string(s.start_ns) + "\",\"endTimeUnixNano\":\"" +
             std::to_string(s.start_ns + s.duration_ns) + "\",\"attributes\":[";
      bool a = false;
      auto sep = [&] {
        out += a ? "," : "";
        a = true;
      };
      // Datadog's OTLP ingest maps resource.name to the span resource.
      if (!s.resource.empty()) sep(), kv_string(out, "resource.name", s.resource);
      for (const auto& [k, v] : s.meta) sep(), kv_string(out, k, v);
      for (const auto& [k, v] : s.metrics) sep(), kv_double(out, k, v);
      out += "],\"status\":{\"code\":" + std::string(s.error ? "2" : "0") + "}}";
    }
  }
  out += "]}]}]}";
  return out;
}

}  // namespace gw::telemetry

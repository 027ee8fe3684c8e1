// Wire encodings of finished spans: Datadog v0.4 msgpack and OTLP/HTTP JSON.
#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "telemetry/encoding.h"
#include "telemetry/tracing.h"

namespace gw::telemetry {

using detail::ByteBuffer;
using detail::CharCursor;
using detail::json_string_into;
using detail::MsgpackWriter;

namespace {
// An upper bound of a span's encoded size: the encoder writes without per-value checks, so this must
// hold for any span. Fixed part: map header 1, the 12 keys 100, 4 string headers 20, 6 integers 54, 2 map
// headers 10 = 185.
std::size_t v04_size_bound(const Span& s) {
  std::size_t n = 192 + s.service.size() + s.name.size() + s.resource.size() + s.type.size();
  n += s.meta.encoded().size() + s.metrics.encoded().size();
  if (s.shared) n += s.shared->v04_meta.size() + s.shared->v04_metrics.size();
  return n;
}

}  // namespace

void detail::encode_v04_trace_at(ByteBuffer& out, std::span<const Span> trace) {
  // One bound for the whole trace, then every value is written at a plain cursor (no per-value check).
  std::size_t bound = 5;
  for (const Span& s : trace) bound += v04_size_bound(s);
  namespace mp = detail::msgpack;
  out.append(bound, [&](CharCursor& c) {
    char* const limit = c.pos() + bound;
    char* p = mp::array(c.pos(), static_cast<std::uint32_t>(trace.size()));
    for (const Span& s : trace) {
      // Same 12 keys, same order as dd-trace-cpp's span_data.cpp.
      p = mp::map(p, 12);
      p = mp::str(mp::key(p, "service"), s.service);
      p = mp::str(mp::key(p, "name"), s.name);
      p = mp::str(mp::key(p, "resource"), s.resource);
      p = mp::u64(mp::key(p, "trace_id"), s.trace_id_low);
      p = mp::u64(mp::key(p, "span_id"), s.span_id);
      p = mp::u64(mp::key(p, "parent_id"), s.parent_id);
      p = mp::i64(mp::key(p, "start"), s.start_ns);
      p = mp::i64(mp::key(p, "duration"), s.duration_ns);
      p = mp::i64(mp::key(p, "error"), s.error);
      p = mp::map(mp::key(p, "meta"),
                  static_cast<std::uint32_t>(s.meta.size() + (s.shared ? s.shared->meta.size() : 0)));
      p = mp::raw(p, s.meta.encoded());
      if (s.shared) p = mp::raw(p, s.shared->v04_meta);
      p = mp::map(mp::key(p, "metrics"),
                  static_cast<std::uint32_t>(s.metrics.size() + (s.shared ? s.shared->metrics.size() : 0)));
      p = mp::raw(p, s.metrics.encoded());
      if (s.shared) p = mp::raw(p, s.shared->v04_metrics);
      p = mp::str(mp::key(p, "type"), s.type);
    }
    if (p > limit) std::abort();  // the bound above is wrong: fail loudly, not silently
    c.rewind(p);
  });
}

void detail::encode_v04_trace_into(std::string& out, std::span<const Span> trace) {
  ByteBuffer buffer{std::move(out), 0};
  buffer.used = buffer.bytes.size();
  encode_v04_trace_at(buffer, trace);
  buffer.bytes.resize(buffer.used);
  out = std::move(buffer.bytes);
}

std::string detail::v04_payload_prefix(std::size_t traces) {
  std::string out;
  MsgpackWriter(out).array(static_cast<std::uint32_t>(traces));
  return out;
}

void detail::v04_payload_into(std::string& out, std::size_t traces,
                              const std::vector<std::string_view>& encoded) {
  out += v04_payload_prefix(traces);
  for (std::string_view piece : encoded) out.append(piece);
}

std::string encode_v04_msgpack(const std::vector<std::vector<Span>>& traces) {
  std::string body;
  for (const auto& trace : traces) detail::encode_v04_trace_into(body, trace);
  std::string out;
  detail::v04_payload_into(out, traces.size(), {body});
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

void detail::encode_otlp_spans_into(std::string& out, std::span<const Span> trace) {
  char num[24];
  auto decimal = [&](std::int64_t v) {
    return std::string_view(num, std::to_chars(num, num + sizeof num, v).ptr - num);
  };
  auto hex = [&](std::uint64_t v) {
    static const char* d = "0123456789abcdef";
    char h[16];
    for (int i = 15; i >= 0; --i, v >>= 4) h[i] = d[v & 15];
    out.append(h, 16);
  };
  for (const Span& s : trace) {
    // Every span is written with a leading ','; otlp_payload_into drops the first one.
    // OTLP/JSON ids are hex strings; 64-bit integers (timestamps) are decimal strings.
    out += ",{\"traceId\":\"";
    hex(s.trace_id_high);
    hex(s.trace_id_low);
    out += "\",\"spanId\":\"";
    hex(s.span_id);
    out += "\",\"parentSpanId\":\"";
    if (s.parent_id) hex(s.parent_id);
    out += "\",\"name\":";
    json_string_into(out, s.name);
    out += ",\"kind\":";
    out += static_cast<char>('0' + otlp_kind(s));
    out += ",\"startTimeUnixNano\":\"";
    out += decimal(s.start_ns);
    out += "\",\"endTimeUnixNano\":\"";
    out += decimal(s.start_ns + s.duration_ns);
    out += "\",\"attributes\":[";
    bool a = false;
    auto sep = [&] {
      out += a ? "," : "";
      a = true;
    };
    // Datadog's OTLP ingest maps resource.name to the span resource.
    if (!s.resource.empty()) sep(), kv_string(out, "resource.name", s.resource);
    for (const auto& [k, v] : s.meta) sep(), kv_string(out, k, v);
    for (const auto& [k, v] : s.metrics) sep(), kv_double(out, k, v);
    if (s.shared) {
      for (const auto& [k, v] : s.shared->meta) sep(), kv_string(out, k, v);
      for (const auto& [k, v] : s.shared->metrics) sep(), kv_double(out, k, v);
    }
    out += "],\"status\":{\"code\":";
    out += s.error ? "2" : "0";
    out += "}}";
  }
}

std::string detail::otlp_payload_prefix(const ServiceInfo& info) {
  std::string out = "{\"resourceSpans\":[{\"resource\":{\"attributes\":[";
  kv_string(out, "service.name", info.service);
  if (!info.version.empty()) out += ',', kv_string(out, "service.version", info.version);
  if (!info.env.empty()) out += ',', kv_string(out, "deployment.environment", info.env);
  out += "]},\"scopeSpans\":[{\"scope\":{\"name\":\"io.krakend.krakend-otel\",\"version\":\"\"},\"spans\":[";
  return out;
}

std::string_view detail::otlp_payload_suffix() { return "]}]}]}"; }

std::string_view detail::otlp_first_piece(std::string_view piece) {
  if (!piece.empty()) piece.remove_prefix(1);  // the first span's ','
  return piece;
}

void detail::otlp_payload_into(std::string& out, const ServiceInfo& info,
                               const std::vector<std::string_view>& encoded) {
  out += otlp_payload_prefix(info);
  bool first = true;
  for (std::string_view piece : encoded) {
    if (first && !piece.empty()) {
      piece = otlp_first_piece(piece);
      first = false;
    }
    out.append(piece);
  }
  out += otlp_payload_suffix();
}

std::string encode_otlp_json(const std::vector<std::vector<Span>>& traces, const ServiceInfo& info) {
  std::string spans;
  for (const auto& trace : traces) detail::encode_otlp_spans_into(spans, trace);
  std::string out;
  detail::otlp_payload_into(out, info, {spans});
  return out;
}

}  // namespace gw::telemetry

// Tiny MessagePack writer and JSON string escaping. Internal to telemetry (the Debian msgpack -dev
// packages pull in Boost 1.74, which conflicts with 1.81).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace gw::telemetry {
struct Span;
struct ServiceInfo;
}  // namespace gw::telemetry

namespace gw::telemetry::detail {

// Exporters encode each trace when it is submitted (on the worker that built it) and frame the
// concatenation at flush time. encode_v04_msgpack / encode_otlp_json are these two steps in one.
void encode_v04_trace_into(std::string& out, const std::vector<Span>& trace);  // one msgpack array
void v04_payload_into(std::string& out, std::size_t traces, const std::vector<std::string_view>& encoded);
void encode_otlp_spans_into(std::string& out, const std::vector<Span>& trace);  // ",{span}" each
void otlp_payload_into(std::string& out, const ServiceInfo& info,
                       const std::vector<std::string_view>& encoded);

class MsgpackWriter {
 public:
  explicit MsgpackWriter(std::string& out) : out_(out) {}

  // Each value is assembled in a small stack buffer and appended once (no per-byte push_back).
  void map(std::uint32_t n) { header(n, 0x80, 16, 0xde, 0xdf); }
  void array(std::uint32_t n) { header(n, 0x90, 16, 0xdc, 0xdd); }
  void str(std::string_view s) {
    const auto n = static_cast<std::uint32_t>(s.size());
    char h[5];
    std::size_t k;
    if (n < 32) {
      h[0] = static_cast<char>(0xa0 | n);
      k = 1;
    } else if (n <= 0xff) {
      h[0] = static_cast<char>(0xd9);
      k = 1 + be(h + 1, n, 1);
    } else if (n <= 0xffff) {
      h[0] = static_cast<char>(0xda);
      k = 1 + be(h + 1, n, 2);
    } else {
      h[0] = static_cast<char>(0xdb);
      k = 1 + be(h + 1, n, 4);
    }
    out_.append(h, k);
    out_.append(s);
  }
  void u64(std::uint64_t v) {
    char b[9];
    std::size_t k;
    if (v < 128) {
      b[0] = static_cast<char>(v);
      k = 1;
    } else if (v <= 0xff) {
      b[0] = static_cast<char>(0xcc);
      k = 1 + be(b + 1, v, 1);
    } else if (v <= 0xffff) {
      b[0] = static_cast<char>(0xcd);
      k = 1 + be(b + 1, v, 2);
    } else if (v <= 0xffffffffu) {
      b[0] = static_cast<char>(0xce);
      k = 1 + be(b + 1, v, 4);
    } else {
      b[0] = static_cast<char>(0xcf);
      k = 1 + be(b + 1, v, 8);
    }
    out_.append(b, k);
  }
  void i64(std::int64_t v) {
    if (v >= 0) return u64(static_cast<std::uint64_t>(v));
    char b[9];
    std::size_t k;
    const auto u = static_cast<std::uint64_t>(v);
    if (v >= -32) {
      b[0] = static_cast<char>(u);
      k = 1;
    } else if (v >= INT8_MIN) {
      b[0] = static_cast<char>(0xd0);
      k = 1 + be(b + 1, u, 1);
    } else if (v >= INT16_MIN) {
      b[0] = static_cast<char>(0xd1);
      k = 1 + be(b + 1, u, 2);
    } else if (v >= INT32_MIN) {
      b[0] = static_cast<char>(0xd2);
      k = 1 + be(b + 1, u, 4);
    } else {
      b[0] = static_cast<char>(0xd3);
      k = 1 + be(b + 1, u, 8);
    }
    out_.append(b, k);
  }
  void f64(double d) {
    std::uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    char b[9];
    b[0] = static_cast<char>(0xcb);
    be(b + 1, bits, 8);
    out_.append(b, 9);
  }

 private:
  static std::size_t be(char* p, std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) *p++ = static_cast<char>((v >> (8 * i)) & 0xff);
    return static_cast<std::size_t>(bytes);
  }
  void header(std::uint32_t n, std::uint32_t fix, std::uint32_t fix_max, std::uint32_t b16,
              std::uint32_t b32) {
    char h[5];
    std::size_t k;
    if (n < fix_max) {
      h[0] = static_cast<char>(fix | n);
      k = 1;
    } else if (n <= 0xffff) {
      h[0] = static_cast<char>(b16);
      k = 1 + be(h + 1, n, 2);
    } else {
      h[0] = static_cast<char>(b32);
      k = 1 + be(h + 1, n, 4);
    }
    out_.append(h, k);
  }
  std::string& out_;
};

// Length of the well-formed UTF-8 sequence starting at s[i] (Unicode Table 3-7: no overlong forms, no
// surrogates, nothing above U+10FFFF), or 0 if the bytes there are not one.
inline std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  const std::size_t left = s.size() - i;
  auto cont = [&](std::size_t k) { return (b(k) & 0xc0) == 0x80; };
  if (c >= 0xc2 && c <= 0xdf) return left >= 2 && cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (left < 3 || !cont(1) || !cont(2)) return 0;
    if (c == 0xe0 && b(1) < 0xa0) return 0;  // overlong
    if (c == 0xed && b(1) > 0x9f) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (left < 4 || !cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xf0 && b(1) < 0x90) return 0;  // overlong
    if (c == 0xf4 && b(1) > 0x8f) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

// JSON text must be UTF-8 (RFC 8259 8.1): bytes that are not well-formed UTF-8 (a Latin-1 User-Agent,
// a stray 0xff) become U+FFFD instead of making the whole line unparseable.
inline void json_escape_into(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  const std::size_t size = s.size();
  std::size_t i = 0;
  for (;;) {
    // Fast path: runs of printable ASCII other than '"' and '\\' are copied in one append.
    const std::size_t run = i;
    while (i < size) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
      ++i;
    }
    if (i > run) out.append(s.data() + run, i - run);
    if (i == size) return;
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else if (std::size_t n = utf8_sequence_length(s, i)) {
          out.append(s.data() + i, n);
          i += n - 1;
        } else {
          out += "\\ufffd";
        }
    }
    ++i;
  }
}

inline void json_string_into(std::string& out, std::string_view s) {
  out += '"';
  json_escape_into(out, s);
  out += '"';
}

}  // namespace gw::telemetry::detail

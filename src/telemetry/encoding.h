// Tiny MessagePack writer and JSON string escaping. Internal to telemetry (the Debian msgpack -dev
// packages pull in Boost 1.74, which conflicts with 1.81).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace gw::telemetry::detail {

class MsgpackWriter {
 public:
  explicit MsgpackWriter(std::string& out) : out_(out) {}

  void map(std::uint32_t n) { header(n, 0x80, 16, 0xde, 0xdf); }
  void array(std::uint32_t n) { header(n, 0x90, 16, 0xdc, 0xdd); }
  void str(std::string_view s) {
    const auto n = static_cast<std::uint32_t>(s.size());
    if (n < 32) {
      byte(0xa0 | n);
    } else if (n <= 0xff) {
      byte(0xd9);
      byte(n);
    } else if (n <= 0xffff) {
      byte(0xda);
      be(n, 2);
    } else {
      byte(0xdb);
      be(n, 4);
    }
    out_.append(s);
  }
  void u64(std::uint64_t v) {
    if (v < 128) {
      byte(static_cast<std::uint8_t>(v));
    } else if (v <= 0xff) {
      byte(0xcc);
      byte(static_cast<std::uint8_t>(v));
    } else if (v <= 0xffff) {
      byte(0xcd);
      be(v, 2);
    } else if (v <= 0xffffffffu) {
      byte(0xce);
      be(v, 4);
    } else {
      byte(0xcf);
      be(v, 8);
    }
  }
  void i64(std::int64_t v) {
    if (v >= 0) return u64(static_cast<std::uint64_t>(v));
    if (v >= -32) return byte(static_cast<std::uint8_t>(v));
    if (v >= INT8_MIN) {
      byte(0xd0);
      return be(static_cast<std::uint64_t>(v), 1);
    }
    if (v >= INT16_MIN) {
      byte(0xd1);
      return be(static_cast<std::uint64_t>(v), 2);
    }
    if (v >= INT32_MIN) {
      byte(0xd2);
      return be(static_cast<std::uint64_t>(v), 4);
    }
    byte(0xd3);
    be(static_cast<std::uint64_t>(v), 8);
  }
  void f64(double d) {
    std::uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    byte(0xcb);
    be(bits, 8);
  }

 private:
  void byte(std::uint32_t b) { out_.push_back(static_cast<char>(b & 0xff)); }
  void be(std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) byte(static_cast<std::uint32_t>(v >> (8 * i)));
  }
  void header(std::uint32_t n, std::uint32_t fix, std::uint32_t fix_max, std::uint32_t b16,
              std::uint32_t b32) {
    if (n < fix_max) {
      byte(fix | n);
    } else if (n <= 0xffff) {
      byte(b16);
      be(n, 2);
    } else {
      byte(b32);
      be(n, 4);
    }
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
  for (std::size_t i = 0; i < s.size(); ++i) {
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
        } else if (c < 0x80) {
          out += static_cast<char>(c);
        } else if (std::size_t n = utf8_sequence_length(s, i)) {
          out.append(s.data() + i, n);
          i += n - 1;
        } else {
          out += "\\ufffd";
        }
    }
  }
}

inline void json_string_into(std::string& out, std::string_view s) {
  out += '"';
  json_escape_into(out, s);
  out += '"';
}

}  // namespace gw::telemetry::detail

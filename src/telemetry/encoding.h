// Tiny MessagePack writer and JSON string escaping. Internal to telemetry (the Debian msgpack -dev
// packages pull in Boost 1.74, which conflicts with 1.81).
#pragma once

#if defined(__SSE2__) && defined(__x86_64__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <span>
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
void encode_v04_trace_into(std::string& out, std::span<const Span> trace);  // one msgpack array
// The same appended to a reused buffer (no zero-fill per trace).
struct ByteBuffer;
void encode_v04_trace_at(ByteBuffer& out, std::span<const Span> trace);
void v04_payload_into(std::string& out, std::size_t traces, const std::vector<std::string_view>& encoded);
std::string v04_payload_prefix(std::size_t traces);  // what goes before the encoded traces
void encode_otlp_spans_into(std::string& out, std::span<const Span> trace);  // ",{span}" each
void otlp_payload_into(std::string& out, const ServiceInfo& info,
                       const std::vector<std::string_view>& encoded);
// otlp_payload_into() in pieces, for a gathered write: prefix, the encoded spans with the first
// one's leading ',' dropped (otlp_first_piece), suffix.
std::string otlp_payload_prefix(const ServiceInfo& info);
std::string_view otlp_payload_suffix();
std::string_view otlp_first_piece(std::string_view piece);

// Copies n bytes to dst. Most copies here are short (keys, tag values, ids, a path): up to 16 bytes
// they are two overlapping loads and stores inline, instead of a call into the library memcpy, whose
// call and size dispatch cost more than the copy itself.
// n in [sizeof(Word), 2 * sizeof(Word)]: the first and the last Word overlap to cover every byte.
template <class Word>
[[gnu::always_inline]] inline void copy_two_words(char* dst, const char* src, std::size_t n) {
  Word a, b;
  std::memcpy(&a, src, sizeof a);
  std::memcpy(&b, src + n - sizeof b, sizeof b);
  std::memcpy(dst, &a, sizeof a);
  std::memcpy(dst + n - sizeof b, &b, sizeof b);
}
[[gnu::always_inline]] inline void copy_bytes(char* dst, const char* src, std::size_t n) {
  if (n > 16) {
    std::memcpy(dst, src, n);
  } else if (n >= 8) {
    copy_two_words<std::uint64_t>(dst, src, n);
  } else if (n >= 4) {
    copy_two_words<std::uint32_t>(dst, src, n);
  } else if (n) {  // 1 to 3 bytes: first, middle and last cover them all
    const char a = src[0], b = src[n / 2], c = src[n - 1];
    dst[0] = a;
    dst[n / 2] = b;
    dst[n - 1] = c;
  }
}

// MessagePack primitives on a raw cursor: each writes one value at p (the caller guarantees the room:
// at most 5 + size bytes for a string, 9 for a number, 5 for a header) and returns the end. The smallest
// encoding is chosen, as dd-trace-cpp's msgpack writer does.
namespace msgpack {
// Big-endian store of the low `bytes` bytes of v (1, 2, 4 or 8: a constant once inlined).
[[gnu::always_inline]] inline char* be(char* p, std::uint64_t v, int bytes) {
  switch (bytes) {
    case 1:
      *p = static_cast<char>(v);
      break;
    case 2: {
      const std::uint16_t x = __builtin_bswap16(static_cast<std::uint16_t>(v));
      std::memcpy(p, &x, 2);
      break;
    }
    case 4: {
      const std::uint32_t x = __builtin_bswap32(static_cast<std::uint32_t>(v));
      std::memcpy(p, &x, 4);
      break;
    }
    default: {
      const std::uint64_t x = __builtin_bswap64(v);
      std::memcpy(p, &x, 8);
    }
  }
  return p + bytes;
}
[[gnu::always_inline]] inline char* header(char* p, std::uint32_t n, std::uint32_t fix, std::uint32_t fix_max,
                                           std::uint32_t b16, std::uint32_t b32) {
  if (n < fix_max) {
    *p++ = static_cast<char>(fix | n);
  } else if (n <= 0xffff) {
    *p++ = static_cast<char>(b16);
    p = be(p, n, 2);
  } else {
    *p++ = static_cast<char>(b32);
    p = be(p, n, 4);
  }
  return p;
}
[[gnu::always_inline]] inline char* map(char* p, std::uint32_t n) {
  return header(p, n, 0x80, 16, 0xde, 0xdf);
}
[[gnu::always_inline]] inline char* array(char* p, std::uint32_t n) {
  return header(p, n, 0x90, 16, 0xdc, 0xdd);
}
// A short string literal (a map key): its header and bytes are compile-time constants.
template <std::size_t N>
[[gnu::always_inline]] inline char* key(char* p, const char (&s)[N]) {
  static_assert(N - 1 < 32, "fixstr only");
  *p = static_cast<char>(0xa0 | (N - 1));
  std::memcpy(p + 1, s, N - 1);
  return p + N;
}
[[gnu::always_inline]] inline char* str_header(char* p, std::uint32_t n) {
  if (n < 32) {
    *p++ = static_cast<char>(0xa0 | n);
  } else if (n <= 0xff) {
    *p++ = static_cast<char>(0xd9);
    p = be(p, n, 1);
  } else if (n <= 0xffff) {
    *p++ = static_cast<char>(0xda);
    p = be(p, n, 2);
  } else {
    *p++ = static_cast<char>(0xdb);
    p = be(p, n, 4);
  }
  return p;
}
[[gnu::always_inline]] inline char* str(char* p, std::string_view s) {
  const auto n = static_cast<std::uint32_t>(s.size());
  p = str_header(p, n);
  copy_bytes(p, s.data(), n);
  return p + n;
}
[[gnu::always_inline]] inline char* raw(char* p, std::string_view bytes) {  // pre-encoded bytes
  copy_bytes(p, bytes.data(), bytes.size());
  return p + bytes.size();
}
[[gnu::always_inline]] inline char* u64(char* p, std::uint64_t v) {
  if (v < 128) {
    *p++ = static_cast<char>(v);
  } else if (v <= 0xff) {
    *p++ = static_cast<char>(0xcc);
    p = be(p, v, 1);
  } else if (v <= 0xffff) {
    *p++ = static_cast<char>(0xcd);
    p = be(p, v, 2);
  } else if (v <= 0xffffffffu) {
    *p++ = static_cast<char>(0xce);
    p = be(p, v, 4);
  } else {
    *p++ = static_cast<char>(0xcf);
    p = be(p, v, 8);
  }
  return p;
}
[[gnu::always_inline]] inline char* i64(char* p, std::int64_t v) {
  if (v >= 0) return u64(p, static_cast<std::uint64_t>(v));
  const auto u = static_cast<std::uint64_t>(v);
  if (v >= -32) {
    *p++ = static_cast<char>(u);
  } else if (v >= INT8_MIN) {
    *p++ = static_cast<char>(0xd0);
    p = be(p, u, 1);
  } else if (v >= INT16_MIN) {
    *p++ = static_cast<char>(0xd1);
    p = be(p, u, 2);
  } else if (v >= INT32_MIN) {
    *p++ = static_cast<char>(0xd2);
    p = be(p, u, 4);
  } else {
    *p++ = static_cast<char>(0xd3);
    p = be(p, u, 8);
  }
  return p;
}
[[gnu::always_inline]] inline char* f64(char* p, double d) {
  std::uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  *p = static_cast<char>(0xcb);
  return be(p + 1, bits, 8);
}
}  // namespace msgpack

// Appends MessagePack to `out`: each value is a bounds check and one of the primitives above. The
// string grows in few large steps (the caller's size hint, then at least 256 bytes), and the length
// is settled once, when the writer goes out of scope. For the hot paths (span tags, whole traces) the
// primitives write into a ByteBuffer instead, against one bound per call.
class MsgpackWriter {
 public:
  explicit MsgpackWriter(std::string& out, std::size_t size_hint = 0) : out_(out), used_(out.size()) {
    room(size_hint);
  }
  ~MsgpackWriter() { out_.resize(used_); }
  MsgpackWriter(const MsgpackWriter&) = delete;
  MsgpackWriter& operator=(const MsgpackWriter&) = delete;

  void map(std::uint32_t n) { commit(msgpack::map(take(5), n)); }
  void array(std::uint32_t n) { commit(msgpack::array(take(5), n)); }
  template <std::size_t N>
  void key(const char (&s)[N]) {
    commit(msgpack::key(take(N), s));
  }
  void str(std::string_view s) { commit(msgpack::str(take(5 + s.size()), s)); }
  void raw(std::string_view bytes) { commit(msgpack::raw(take(bytes.size()), bytes)); }
  void u64(std::uint64_t v) { commit(msgpack::u64(take(9), v)); }
  void i64(std::int64_t v) { commit(msgpack::i64(take(9), v)); }
  void f64(double d) { commit(msgpack::f64(take(9), d)); }

 private:
  [[gnu::always_inline]] void room(std::size_t n) {
    if (out_.size() - used_ < n) [[unlikely]]
      grow(n);
  }
  [[gnu::noinline]] void grow(std::size_t n) {
    out_.resize(std::max(used_ + std::max<std::size_t>(n, 256), 2 * out_.size()));
  }
  // At least n writable bytes at the cursor; commit() moves the cursor to the end of what was written.
  [[gnu::always_inline]] char* take(std::size_t n) {
    room(n);
    return out_.data() + used_;
  }
  void commit(const char* end) { used_ = static_cast<std::size_t>(end - out_.data()); }
  std::string& out_;
  std::size_t used_;
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

// "000102...ff": two hex digits per byte value, so a 64-bit id is 8 lookups instead of 16.
inline constexpr auto kHexPairs = [] {
  std::array<char, 512> t{};
  constexpr char digits[] = "0123456789abcdef";
  for (int b = 0; b < 256; ++b) {
    t[static_cast<std::size_t>(2 * b)] = digits[b >> 4];
    t[static_cast<std::size_t>(2 * b + 1)] = digits[b & 15];
  }
  return t;
}();

// "00".."99": two decimal digits per lookup.
inline constexpr auto kDecimalPairs = [] {
  std::array<char, 200> t{};
  for (int i = 0; i < 100; ++i) {
    t[static_cast<std::size_t>(2 * i)] = static_cast<char>('0' + i / 10);
    t[static_cast<std::size_t>(2 * i + 1)] = static_cast<char>('0' + i % 10);
  }
  return t;
}();

namespace decimal_detail {
inline char* pair(char* p, std::uint32_t v) {  // v < 100: two digits
  std::memcpy(p, &kDecimalPairs[2 * v], 2);
  return p + 2;
}
inline char* up_to_8(char* p, std::uint32_t v) {  // v < 1e8, no leading zeros
  const int n = v < 10         ? 1
                : v < 100      ? 2
                : v < 1000     ? 3
                : v < 10000    ? 4
                : v < 100000   ? 5
                : v < 1000000  ? 6
                : v < 10000000 ? 7
                               : 8;
  char* end = p + n;
  char* q = end;
  while (v >= 100) {
    q -= 2;
    pair(q, v % 100);
    v /= 100;
  }
  if (v >= 10)
    pair(q - 2, v);
  else
    q[-1] = static_cast<char>('0' + v);
  return end;
}
inline char* exactly_8(char* p, std::uint32_t v) {  // v < 1e8, zero-padded to 8 digits
  const std::uint32_t hi = v / 10000, lo = v % 10000;
  p = pair(p, hi / 100);
  p = pair(p, hi % 100);
  p = pair(p, lo / 100);
  return pair(p, lo % 100);
}
}  // namespace decimal_detail

// The decimal digits of v at p (at most 20); returns the end. Same output as std::to_chars, in 8-digit
// chunks of 32-bit arithmetic: a 19-digit id (trace and span ids in headers and log lines) costs about
// a third of the digit-pair loop's instructions.
inline char* u64_decimal(char* p, std::uint64_t v) {
  using namespace decimal_detail;
  constexpr std::uint64_t e8 = 100000000, e16 = e8 * e8;
  if (v < e8) return up_to_8(p, static_cast<std::uint32_t>(v));
  if (v < e16)
    return exactly_8(up_to_8(p, static_cast<std::uint32_t>(v / e8)), static_cast<std::uint32_t>(v % e8));
  const std::uint64_t rest = v % e16;
  p = up_to_8(p, static_cast<std::uint32_t>(v / e16));
  p = exactly_8(p, static_cast<std::uint32_t>(rest / e8));
  return exactly_8(p, static_cast<std::uint32_t>(rest % e8));
}
inline char* i64_decimal(char* p, std::int64_t v) {
  if (v >= 0) return u64_decimal(p, static_cast<std::uint64_t>(v));
  *p++ = '-';
  return u64_decimal(p, ~static_cast<std::uint64_t>(v) + 1);
}

// The 16 lowercase hex digits of v at p. On x86-64 (SSE2 is baseline there) the 16 nibbles become
// digits in one register: ids are written 6 times per proxied request (headers, tags).
inline void hex16_to(char* p, std::uint64_t v) {
#if defined(__SSE2__) && defined(__x86_64__)
  const __m128i bytes =
      _mm_cvtsi64_si128(static_cast<long long>(__builtin_bswap64(v)));  // most significant first
  const __m128i low = _mm_set1_epi8(0x0f);
  const __m128i nibbles =
      _mm_unpacklo_epi8(_mm_and_si128(_mm_srli_epi16(bytes, 4), low), _mm_and_si128(bytes, low));
  const __m128i letters =
      _mm_and_si128(_mm_cmpgt_epi8(nibbles, _mm_set1_epi8(9)), _mm_set1_epi8('a' - '0' - 10));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p),
                   _mm_add_epi8(_mm_add_epi8(nibbles, _mm_set1_epi8('0')), letters));
#else
  for (int i = 14; i >= 0; i -= 2, v >>= 8) std::memcpy(p + i, &kHexPairs[2 * (v & 0xff)], 2);
#endif
}

// Bytes JSON strings carry as they are: printable ASCII except '"' and '\\'.
inline constexpr auto kJsonPlain = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x80; ++c) t[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
  return t;
}();

// Whether the 8 bytes at p are all plain (kJsonPlain), tested at once: no byte below 0x20 or with
// the high bit set, none equal to '"' or '\\' (exact existence tests, no false positives).
inline bool json_plain_word(const char* p) {
  constexpr std::uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
  std::uint64_t x;
  std::memcpy(&x, p, sizeof x);
  auto has_zero = [&](std::uint64_t v) { return (v - ones) & ~v & highs; };
  const std::uint64_t below_space = (x - 0x20 * ones) & ~x & highs;
  return !(below_space | (x & highs) | has_zero(x ^ ('"' * ones)) | has_zero(x ^ ('\\' * ones)));
}

// JSON text must be UTF-8 (RFC 8259 8.1): bytes that are not well-formed UTF-8 (a Latin-1 User-Agent,
// a stray 0xff) become U+FFFD instead of making the whole line unparseable. Writes at most
// 6 * s.size() bytes at p; returns the end.
inline char* json_escape_to(char* p, std::string_view s) {
  const std::size_t size = s.size();
  std::size_t i = 0;
  auto lit = [&](const char* text, std::size_t n) {
    copy_bytes(p, text, n);
    p += n;
  };
  for (;;) {
    // Fast path: runs of printable ASCII other than '"' and '\\' are copied in one piece.
    const std::size_t run = i;
    while (i + 8 <= size && json_plain_word(s.data() + i)) i += 8;  // 8 bytes per test, then one by one
    while (i < size && kJsonPlain[static_cast<unsigned char>(s[i])]) ++i;
    if (i > run) lit(s.data() + run, i - run);
    if (i == size) return p;
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        lit("\\\"", 2);
        break;
      case '\\':
        lit("\\\\", 2);
        break;
      case '\n':
        lit("\\n", 2);
        break;
      case '\r':
        lit("\\r", 2);
        break;
      case '\t':
        lit("\\t", 2);
        break;
      default:
        if (c < 0x20) {
          lit("\\u00", 4);
          *p++ = kHexPairs[2 * c];
          *p++ = kHexPairs[2 * c + 1];
        } else if (std::size_t n = utf8_sequence_length(s, i)) {
          lit(s.data() + i, n);
          i += n - 1;
        } else {
          lit("\\ufffd", 6);
        }
    }
    ++i;
  }
}

// Writes at a raw cursor into space the caller sized beforehand (an upper bound of what is written),
// so each piece is a plain copy with no capacity check. See append_at_cursor.
class CharCursor {
 public:
  explicit CharCursor(char* p) : p_(p) {}
  char* pos() const { return p_; }
  void rewind(char* to) { p_ = to; }
  template <std::size_t N>
  void lit(const char (&s)[N]) {  // a literal: a constant-size copy
    std::memcpy(p_, s, N - 1);
    p_ += N - 1;
  }
  void put(std::string_view s) {
    copy_bytes(p_, s.data(), s.size());
    p_ += s.size();
  }
  void put(char c) { *p_++ = c; }
  void decimal(std::uint64_t v) { p_ = u64_decimal(p_, v); }
  void decimal(std::int64_t v) { p_ = i64_decimal(p_, v); }
  void decimal(int v) { p_ = i64_decimal(p_, v); }
  void decimal(unsigned v) { p_ = u64_decimal(p_, v); }
  void hex16(std::uint64_t v) {
    hex16_to(p_, v);
    p_ += 16;
  }
  void json(std::string_view s) { p_ = json_escape_to(p_, s); }  // escaped, no quotes: 6 * size bound
  void json_string(std::string_view s) {                         // quoted: 6 * size + 2 bound
    *p_++ = '"';
    p_ = json_escape_to(p_, s);
    *p_++ = '"';
  }

 private:
  char* p_;
};

// A byte buffer whose std::string is only ever grown (its size is a high-water mark) and whose content
// is bytes [0, used): appending at a cursor then costs no zero-fill of the room it needs, which a
// std::string::resize per line would (C++20 has no resize_and_overwrite).
struct ByteBuffer {
  std::string bytes;
  std::size_t used = 0;
  std::string_view view() const { return {bytes.data(), used}; }
  bool empty() const { return used == 0; }
  void clear() { used = 0; }
  void truncate(std::size_t size) { used = size; }
  // Appends what write(CharCursor&) writes, which must be at most `bound` bytes.
  template <class Write>
  void append(std::size_t bound, Write&& write) {
    if (bytes.size() - used < bound) bytes.resize(std::max(used + bound, 2 * bytes.size()));
    CharCursor cursor(bytes.data() + used);
    write(cursor);
    used = static_cast<std::size_t>(cursor.pos() - bytes.data());
  }
  void append(std::string_view s) {
    append(s.size(), [&](CharCursor& c) { c.put(s); });
  }
};

// Appends to `out` what write(CharCursor&) writes, which must be at most `bound` bytes.
template <class Write>
void append_at_cursor(std::string& out, std::size_t bound, Write&& write) {
  const std::size_t at = out.size();
  out.resize(at + bound);
  CharCursor cursor(out.data() + at);
  write(cursor);
  out.resize(static_cast<std::size_t>(cursor.pos() - out.data()));
}

inline void json_escape_into(std::string& out, std::string_view s) {
  append_at_cursor(out, 6 * s.size(), [&](CharCursor& c) { c.json(s); });
}

inline void json_string_into(std::string& out, std::string_view s) {
  append_at_cursor(out, 6 * s.size() + 2, [&](CharCursor& c) { c.json_string(s); });
}

}  // namespace gw::telemetry::detail

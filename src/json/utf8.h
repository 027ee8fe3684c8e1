// Private UTF-8 helpers with Go's unicode/utf8 rules (used by the parser and the encoder).
#pragma once

#include <string>
#include <string_view>

namespace gw::json::utf8 {

inline constexpr char32_t kRuneError = 0xFFFD;

// Decodes the first rune of `s` (non-empty). Invalid or truncated sequences, overlong forms and
// surrogates give kRuneError with size 1, exactly like Go's utf8.DecodeRune.
inline char32_t decode(std::string_view s, std::size_t& size) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  const unsigned char c0 = p[0];
  size = 1;
  if (c0 < 0x80) return c0;
  auto cont = [&](std::size_t i) { return i < n && (p[i] & 0xC0) == 0x80; };
  if (c0 >= 0xC2 && c0 <= 0xDF) {
    if (!cont(1)) return kRuneError;
    size = 2;
    return (char32_t(c0 & 0x1F) << 6) | (p[1] & 0x3F);
  }
  if (c0 >= 0xE0 && c0 <= 0xEF) {
    if (!cont(1) || !cont(2)) return kRuneError;
    if (c0 == 0xE0 && p[1] < 0xA0) return kRuneError;  // overlong
    if (c0 == 0xED && p[1] > 0x9F) return kRuneError;  // surrogate
    size = 3;
    return (char32_t(c0 & 0x0F) << 12) | (char32_t(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
  }
  if (c0 >= 0xF0 && c0 <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return kRuneError;
    if (c0 == 0xF0 && p[1] < 0x90) return kRuneError;  // overlong
    if (c0 == 0xF4 && p[1] > 0x8F) return kRuneError;  // > U+10FFFF
    size = 4;
    return (char32_t(c0 & 0x07) << 18) | (char32_t(p[1] & 0x3F) << 12) | (char32_t(p[2] & 0x3F) << 6) |
           (p[3] & 0x3F);
  }
  return kRuneError;
}

inline void append(std::string& out, char32_t r) {
  if (r < 0x80) {
    out.push_back(static_cast<char>(r));
  } else if (r < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (r >> 6)));
    out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else if (r < 0x10000) {
    if (r >= 0xD800 && r < 0xE000) r = kRuneError;
    out.push_back(static_cast<char>(0xE0 | (r >> 12)));
    out.push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else if (r <= 0x10FFFF) {
    out.push_back(static_cast<char>(0xF0 | (r >> 18)));
    out.push_back(static_cast<char>(0x80 | ((r >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else {
    append(out, kRuneError);
  }
}

}  // namespace gw::json::utf8

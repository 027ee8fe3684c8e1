// The decoding transformers: HTML entities, JavaScript and CSS escapes, Unicode compatibility
// normalization. Each is one pass that writes into a fresh string; decoded code points are
// written as UTF-8, invalid ones as U+FFFD, so output never exceeds 3/2 of the input.
#include "appsec/transform_decode.h"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "appsec/text_util.h"

namespace gw::appsec::detail::decode {
namespace {

using namespace text;

struct Entity {
  std::string_view name;
  std::uint32_t cp;
};

// The named entities an attacker uses to hide markup and URL schemes; matched case-insensitively,
// with or without the ';' (as browsers do for the legacy ones).
constexpr std::array kEntities{
    Entity{"lt", '<'},     Entity{"gt", '>'},    Entity{"amp", '&'},    Entity{"quot", '"'},
    Entity{"apos", '\''},  Entity{"nbsp", 0xA0}, Entity{"tab", '\t'},   Entity{"newline", '\n'},
    Entity{"colon", ':'},  Entity{"semi", ';'},  Entity{"comma", ','},  Entity{"period", '.'},
    Entity{"sol", '/'},    Entity{"bsol", '\\'}, Entity{"lpar", '('},   Entity{"rpar", ')'},
    Entity{"lsqb", '['},   Entity{"rsqb", ']'},  Entity{"lbrack", '['}, Entity{"rbrack", ']'},
    Entity{"lcub", '{'},   Entity{"rcub", '}'},  Entity{"lbrace", '{'}, Entity{"rbrace", '}'},
    Entity{"equals", '='}, Entity{"excl", '!'},  Entity{"quest", '?'},  Entity{"num", '#'},
    Entity{"percnt", '%'}, Entity{"plus", '+'},  Entity{"dollar", '$'}, Entity{"ast", '*'},
    Entity{"grave", '`'},  Entity{"vert", '|'},  Entity{"hat", '^'},    Entity{"lowbar", '_'},
    Entity{"commat", '@'}, Entity{"copy", 0xA9}, Entity{"reg", 0xAE},
};
constexpr std::size_t kLongestEntity = 7;

std::uint32_t named_entity(std::string_view name) {
  for (const Entity& e : kEntities) {
    if (e.name.size() != name.size()) continue;
    bool same = true;
    for (std::size_t k = 0; k < name.size() && same; ++k) same = to_lower(name[k]) == e.name[k];
    if (same) return e.cp;
  }
  return 0;
}

// Reads the digits of a numeric reference at s[i]; consumes every digit (as browsers do) but
// saturates, so huge numbers decode to U+FFFD instead of overflowing.
std::size_t read_number(std::string_view s, std::size_t i, bool hex, std::uint32_t& cp) {
  cp = 0;
  const std::size_t start = i;
  for (; i < s.size() && (hex ? is_hex(s[i]) : is_digit(s[i])); ++i) {
    if (cp <= 0x10FFFF) cp = cp * (hex ? 16 : 10) + static_cast<std::uint32_t>(hex_value(s[i]));
  }
  return i - start;
}

// One reference at s[i] == '&'; returns the bytes consumed, 0 when it is not a reference.
std::size_t html_reference(std::string_view s, std::size_t i, std::string& out) {
  std::size_t j = i + 1;
  if (j < s.size() && s[j] == '#') {
    ++j;
    const bool hex = j < s.size() && (s[j] | 0x20) == 'x';
    if (hex) ++j;
    std::uint32_t cp = 0;
    const std::size_t digits = read_number(s, j, hex, cp);
    if (digits == 0) return 0;
    j += digits;
    if (j < s.size() && s[j] == ';') ++j;
    append_utf8(out, cp == 0 ? 0xFFFD : cp);
    return j - i;
  }
  std::size_t run = 0;
  while (j + run < s.size() && run < kLongestEntity && is_alnum(s[j + run])) ++run;
  for (std::size_t len = run; len >= 2; --len) {  // longest known name wins ("&ltx" is "<x")
    if (const std::uint32_t cp = named_entity(s.substr(j, len)); cp != 0) {
      append_utf8(out, cp);
      j += len;
      if (j < s.size() && s[j] == ';') ++j;
      return j - i;
    }
  }
  return 0;
}

// \uHHHH (with a following low surrogate when it is a high one) or \u{H...}; returns the bytes
// consumed after the "\u", 0 when malformed.
std::size_t js_unicode(std::string_view s, std::size_t i, std::string& out) {
  std::uint32_t cp = 0;
  if (i < s.size() && s[i] == '{') {
    const std::size_t digits = read_number(s, i + 1, true, cp);
    if (digits == 0 || i + 1 + digits >= s.size() || s[i + 1 + digits] != '}') return 0;
    append_utf8(out, cp);
    return digits + 2;
  }
  if (s.size() - i < 4 || read_number(s.substr(i, 4), 0, true, cp) != 4) return 0;
  if (cp >= 0xD800 && cp <= 0xDBFF && s.size() - i >= 10 && s[i + 4] == '\\' && s[i + 5] == 'u') {
    std::uint32_t low = 0;
    if (read_number(s.substr(i + 6, 4), 0, true, low) == 4 && low >= 0xDC00 && low <= 0xDFFF) {
      append_utf8(out, 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00));
      return 10;
    }
  }
  append_utf8(out, cp);  // a lone surrogate becomes U+FFFD
  return 4;
}

// A JavaScript escape at s[i] == '\\' (i + 1 < size); returns the bytes consumed.
std::size_t js_escape(std::string_view s, std::size_t i, std::string& out) {
  const char e = s[i + 1];
  switch (e) {
    case 'b':
      out.push_back('\b');
      return 2;
    case 'f':
      out.push_back('\f');
      return 2;
    case 'n':
      out.push_back('\n');
      return 2;
    case 'r':
      out.push_back('\r');
      return 2;
    case 't':
      out.push_back('\t');
      return 2;
    case 'v':
      out.push_back('\v');
      return 2;
    case 'x':
      if (s.size() - i >= 4 && is_hex(s[i + 2]) && is_hex(s[i + 3])) {
        append_utf8(out, static_cast<std::uint32_t>(hex_value(s[i + 2]) << 4 | hex_value(s[i + 3])));
        return 4;
      }
      break;
    case 'u':
      if (const std::size_t n = js_unicode(s, i + 2, out); n != 0) return n + 2;
      break;
    default:
      break;
  }
  if (e >= '0' && e <= '7') {  // legacy octal, at most \377
    std::uint32_t v = 0;
    std::size_t n = 1;
    const std::size_t max = e <= '3' ? 3 : 2;
    while (n <= max && i + n < s.size() && s[i + n] >= '0' && s[i + n] <= '7') {
      v = v * 8 + static_cast<std::uint32_t>(s[i + n] - '0');
      ++n;
    }
    append_utf8(out, v);
    return n;
  }
  out.push_back(e);  // any other escaped character stands for itself
  return 2;
}

// Maps one code point to its compatibility decomposition with combining marks removed. Returns
// false to keep the original bytes; appends nothing for removed characters.
bool normalize_code_point(std::uint32_t cp, std::string& out) {
  // Base letters of U+00C0..U+00FF and U+0100..U+017F ('.' = no decomposition to a base letter).
  static constexpr std::string_view kLatin1 =
      "AAAAAA.CEEEEIIII.NOOOOO..UUUUY..aaaaaa.ceeeeiiii.nooooo..uuuuy.y";
  static constexpr std::string_view kLatinA =
      "AaAaAaCcCcCcCcDd..EeEeEeEeEeGgGgGgGgHh..IiIiIiIiI...JjKk.LlLlLl....NnNnNn...OoOoOo.."
      "RrRrRrSsSsSsSsTtTt.."
      "UuUuUuUuUuUuWwYyYZzZzZzs";
  static_assert(kLatin1.size() == 64 && kLatinA.size() == 128);
  static constexpr std::array<std::string_view, 7> kLigatures{"ff", "fi", "fl", "ffi", "ffl", "st", "st"};
  auto letter = [&](char c) {
    if (c == '.') return false;
    out.push_back(c);
    return true;
  };
  if (cp >= 0xFF01 && cp <= 0xFF5E) return letter(static_cast<char>(cp - 0xFEE0));  // fullwidth ASCII
  if (cp == 0x3000 || cp == 0xA0 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F || cp == 0x205F) {
    return letter(' ');
  }
  if ((cp >= 0x300 && cp <= 0x36F) || (cp >= 0x1AB0 && cp <= 0x1AFF) || (cp >= 0x1DC0 && cp <= 0x1DFF) ||
      (cp >= 0x20D0 && cp <= 0x20FF) || (cp >= 0xFE20 && cp <= 0xFE2F)) {
    return true;  // combining marks
  }
  if (cp == 0x200B || cp == 0x2060 || cp == 0xFEFF) return true;  // zero-width (not ZWJ/ZWNJ: emoji)
  if (cp >= 0xC0 && cp <= 0xFF) return letter(kLatin1[cp - 0xC0]);
  if (cp >= 0x100 && cp <= 0x17F) return letter(kLatinA[cp - 0x100]);
  if (cp >= 0xFB00 && cp <= 0xFB06) {
    out.append(kLigatures[cp - 0xFB00]);
    return true;
  }
  if (cp == 0xB9) return letter('1');
  if (cp == 0xB2 || cp == 0xB3) return letter(static_cast<char>('0' + cp - 0xB0));
  if (cp == 0x2070) return letter('0');
  if (cp >= 0x2074 && cp <= 0x2079) return letter(static_cast<char>('0' + cp - 0x2070));
  if (cp >= 0x2080 && cp <= 0x2089) return letter(static_cast<char>('0' + cp - 0x2080));
  switch (cp) {
    case 0x2024:
      return letter('.');  // one dot leader
    case 0x2044:
      return letter('/');  // fraction slash
    case 0x212A:
      return letter('K');  // Kelvin sign
    case 0x212B:
      return letter('A');  // Angstrom sign
    case 0xFE63:
      return letter('-');  // small hyphen-minus
    case 0xFE64:
      return letter('<');  // small less-than
    case 0xFE65:
      return letter('>');  // small greater-than
    case 0xFE68:
      return letter('\\');  // small reverse solidus
    case 0xFE60:
      return letter('&');  // small ampersand
    case 0xFE6A:
      return letter('%');  // small percent
    case 0x17F:
      return letter('s');  // long s
    default:
      return false;
  }
}

}  // namespace

void html_entities(std::string& value) {
  if (value.find('&') == std::string::npos) return;
  const std::string_view s(value);
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = s[i] == '&' ? html_reference(s, i, out) : 0;
    if (n == 0) out.push_back(s[i++]);
    i += n;
  }
  value = std::move(out);
}

void js_escapes(std::string& value) {
  if (value.find('\\') == std::string::npos) return;
  const std::string_view s(value);
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out.push_back(s[i++]);
    } else {
      i += js_escape(s, i, out);
    }
  }
  value = std::move(out);
}

// CSS escapes (css-syntax "consume an escaped code point"): \ + 1..6 hex digits (one whitespace
// after them is swallowed), \ + newline is a line continuation, \ + anything else is that byte.
void css_escapes(std::string& value) {
  if (value.find('\\') == std::string::npos) return;
  const std::string_view s(value);
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    if (s[i] != '\\') {
      out.push_back(s[i++]);
      continue;
    }
    if (++i == s.size()) break;  // a trailing backslash is dropped
    if (is_hex(s[i])) {
      std::uint32_t cp = 0;
      const std::size_t digits = read_number(s.substr(i, 6), 0, true, cp);
      i += digits;
      append_utf8(out, cp == 0 ? 0xFFFD : cp);
      if (i < s.size() && s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') {
        i += 2;
      } else if (i < s.size() && is_space(s[i])) {
        ++i;
      }
    } else if (s[i] == '\n') {
      ++i;
    } else {
      out.push_back(s[i++]);
    }
  }
  value = std::move(out);
}

// NFKD-like, covering what matters for attack detection (see normalize_code_point): fullwidth
// ASCII, Unicode spaces, Latin-1 / Latin Extended-A letters to their base letter, combining marks
// and zero-width characters removed, f-ligatures, super/subscript digits and a few compatibility
// symbols. Other code points and invalid UTF-8 bytes are copied unchanged.
void unicode_normalize(std::string& value) {
  const std::string_view s(value);
  std::size_t i = 0;
  while (i < s.size() && static_cast<unsigned char>(s[i]) < 0x80) ++i;
  if (i == s.size()) return;
  std::string out(s.substr(0, i));
  out.reserve(s.size());
  while (i < s.size()) {
    std::uint32_t cp = 0;
    const std::size_t len = decode_utf8(s, i, cp);
    if (len == 0) {
      out.push_back(s[i++]);
      continue;
    }
    if (cp < 0x80 || !normalize_code_point(cp, out)) out.append(s.substr(i, len));
    i += len;
  }
  value = std::move(out);
}

}  // namespace gw::appsec::detail::decode

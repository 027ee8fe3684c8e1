// Byte- and rune-level rules of Go's encoding/xml (and x/net/html/charset) used by the xml decoder.
#include "response/xml_chars.h"

#include <array>

#include "json/utf8.h"

namespace gw::response::xml_chars {

bool is_name_byte(unsigned char c) {
  return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == ':' || c == '.' || c == '-';
}

// Go's utf8.DecodeRune: -1 for an invalid sequence (RuneError of size 1).
char32_t decode_rune(std::string_view s, std::size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return s[i++];
  int n = b0 >= 0xF0 && b0 <= 0xF4 ? 4 : b0 >= 0xE0 && b0 <= 0xEF ? 3 : b0 >= 0xC2 && b0 <= 0xDF ? 2 : 0;
  if (n == 0 || i + n > s.size()) return static_cast<char32_t>(-1);
  char32_t r = b0 & (0x7F >> n);
  for (int k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return static_cast<char32_t>(-1);
    r = (r << 6) | (b & 0x3F);
  }
  const bool overlong = (n == 3 && r < 0x800) || (n == 4 && r < 0x10000);
  if (overlong || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) return static_cast<char32_t>(-1);
  i += n;
  return r;
}

// Go's string(rune(n)): a surrogate or a value past U+10FFFF becomes U+FFFD.
void append_utf8(char32_t r, std::string& out) { json::utf8::append(out, r); }

bool in_character_range(char32_t r) {
  return r == 0x09 || r == 0x0A || r == 0x0D || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) ||
         (r >= 0x10000 && r <= 0x10FFFF);
}

std::string go_rune_format(char32_t r) {  // fmt %U
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string h;
  for (; r != 0 || h.size() < 4; r >>= 4) h.insert(h.begin(), kHex[r & 0xF]);
  return "U+" + h;
}

// Go's procInst(param, s): the quoted value after `param=`, "" when absent.
std::string_view proc_inst(std::string_view param_name, std::string_view s) {
  const std::string param = std::string(param_name) + "=";
  std::size_t i = 0;
  char sep = 0;
  while (i < s.size()) {
    std::string_view sub = s.substr(i);
    const std::size_t k = sub.find(param);
    if (k == std::string_view::npos || param.size() + k >= sub.size()) return {};
    i += param.size() + k + 1;
    if (const char c = sub[param.size() + k]; c == '\'' || c == '"') {
      sep = c;
      break;
    }
  }
  if (sep == 0) return {};
  const std::size_t j = s.find(sep, i);
  return j == std::string_view::npos ? std::string_view{} : s.substr(i, j - i);
}

// golang.org/x/text windows-1252 (what WHATWG labels such as latin1 and us-ascii name), 0x80..0x9F.
constexpr std::array<char16_t, 32> kCp1252High = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

char32_t cp1252_rune(unsigned char b) { return b >= 0x80 && b <= 0x9F ? kCp1252High[b - 0x80] : b; }

bool is_cp1252_label(std::string label) {
  for (char& c : label) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  for (std::string_view l : {"ansi_x3.4-1968", "ascii", "cp1252", "cp819", "csisolatin1", "ibm819",
                             "iso-8859-1", "iso-ir-100", "iso8859-1", "iso88591", "iso_8859-1",
                             "iso_8859-1:1987", "l1", "latin1", "us-ascii", "windows-1252", "x-cp1252"})
    if (label == l) return true;
  return false;
}

bool is_utf8_label(std::string_view label) {
  std::string l(label);
  for (char& c : l) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return l == "utf-8" || l == "utf8" || l == "unicode-1-1-utf-8";
}

bool is_valid_name(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9') || name[0] == '.' || name[0] == '-') return false;
  for (std::size_t i = 0; i < name.size();)
    if (decode_rune(name, i) == static_cast<char32_t>(-1)) return false;
  return true;
}

}  // namespace gw::response::xml_chars

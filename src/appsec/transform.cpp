// Transformers (docs: shared reference "datadog-appsec.md" section 4), written after libddwaf's
// documented behaviour. Every function is one or a few linear passes over the bytes; none assumes
// valid UTF-8, and none grows its input by more than 4/3 (base64_encode) or a few bytes.
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "appsec/detail.h"
#include "appsec/text_util.h"
#include "appsec/transform_decode.h"

namespace gw::appsec::detail {
namespace {

using namespace text;

struct Alias {
  std::string_view name;
  Transformer transformer;
};

constexpr std::array kNames{
    Alias{"lowercase", Transformer::lowercase},
    Alias{"remove_nulls", Transformer::remove_nulls},
    Alias{"removeNulls", Transformer::remove_nulls},
    Alias{"compress_whitespace", Transformer::compress_whitespace},
    Alias{"compressWhiteSpace", Transformer::compress_whitespace},
    Alias{"normalize_path", Transformer::normalize_path},
    Alias{"normalizePath", Transformer::normalize_path},
    Alias{"normalize_path_win", Transformer::normalize_path_win},
    Alias{"normalizePathWin", Transformer::normalize_path_win},
    Alias{"url_decode", Transformer::url_decode},
    Alias{"urlDecode", Transformer::url_decode},
    Alias{"url_decode_iis", Transformer::url_decode_iis},
    Alias{"urlDecodeUni", Transformer::url_decode_iis},
    Alias{"html_entity_decode", Transformer::html_entity_decode},
    Alias{"htmlEntityDecode", Transformer::html_entity_decode},
    Alias{"js_decode", Transformer::js_decode},
    Alias{"jsDecode", Transformer::js_decode},
    Alias{"css_decode", Transformer::css_decode},
    Alias{"cssDecode", Transformer::css_decode},
    Alias{"base64_decode", Transformer::base64_decode},
    Alias{"base64Decode", Transformer::base64_decode},
    Alias{"base64url_decode", Transformer::base64url_decode},
    Alias{"base64_encode", Transformer::base64_encode},
    Alias{"base64Encode", Transformer::base64_encode},
    Alias{"shell_unescape", Transformer::shell_unescape},
    Alias{"cmdLine", Transformer::shell_unescape},
    Alias{"remove_comments", Transformer::remove_comments},
    Alias{"removeComments", Transformer::remove_comments},
    Alias{"unicode_normalize", Transformer::unicode_normalize},
    Alias{"url_basename", Transformer::url_basename},
    Alias{"_sqr_basename", Transformer::url_basename},
    Alias{"url_path", Transformer::url_path},
    Alias{"_sqr_filename", Transformer::url_path},
    Alias{"url_querystring", Transformer::url_querystring},
    Alias{"_sqr_querystring", Transformer::url_querystring},
};

void lowercase(std::string& s) {
  for (char& c : s) c = to_lower(c);
}

void remove_nulls(std::string& s) { std::erase(s, '\0'); }

// Any run of whitespace (the C locale set, not only spaces) becomes one space.
void compress_whitespace(std::string& s) {
  std::size_t w = 0;
  bool in_space = false;
  for (const char c : s) {
    if (!is_space(c)) {
      s[w++] = c;
      in_space = false;
    } else if (!in_space) {
      s[w++] = ' ';
      in_space = true;
    }
  }
  s.resize(w);
}

// Resolves "." and ".." segments and empty segments ("//"). An absolute path cannot climb above
// its root; a relative one keeps its leading "..". A trailing "/" (or a final "." / "..") leaves
// the result ending in "/", as the server would see a directory.
void normalize_path(std::string& s) {
  if (s.empty()) return;
  const bool absolute = s[0] == '/';
  std::vector<std::string_view> segments;
  std::size_t kept_up = 0;  // leading ".." kept in a relative path
  bool directory = false;
  for (std::size_t i = 0; i <= s.size();) {
    std::size_t j = s.find('/', i);
    if (j == std::string::npos) j = s.size();
    const std::string_view seg(s.data() + i, j - i);
    directory = true;
    if (seg == "..") {
      if (segments.size() > kept_up) {
        segments.pop_back();
      } else if (!absolute) {
        segments.push_back(seg);
        ++kept_up;
      }
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(seg);
      directory = false;
    }
    i = j + 1;
  }
  std::string out;
  out.reserve(s.size() + 1);
  if (absolute) out.push_back('/');
  for (std::size_t k = 0; k < segments.size(); ++k) {
    if (k > 0) out.push_back('/');
    out.append(segments[k]);
  }
  if (directory && !segments.empty()) out.push_back('/');
  s = std::move(out);
}

void normalize_path_win(std::string& s) {
  for (char& c : s) {
    if (c == '\\') c = '/';
  }
  normalize_path(s);
}

// One decoding pass; returns whether anything was decoded. Invalid escapes are kept verbatim.
bool url_decode_pass(std::string& s, bool iis) {
  std::string out;
  out.reserve(s.size());
  bool changed = false;
  for (std::size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == '+') {
      out.push_back(' ');
      ++i;
      changed = true;
    } else if (c == '%' && i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) << 4 | hex_value(s[i + 2])));
      i += 3;
      changed = true;
    } else if (iis && c == '%' && s.size() - i >= 6 && (s[i + 1] | 0x20) == 'u' && is_hex(s[i + 2]) &&
               is_hex(s[i + 3]) && is_hex(s[i + 4]) && is_hex(s[i + 5])) {
      std::uint32_t cp = 0;
      for (std::size_t k = 2; k < 6; ++k) cp = cp << 4 | static_cast<std::uint32_t>(hex_value(s[i + k]));
      append_utf8(out, cp);
      i += 6;
      changed = true;
    } else {
      out.push_back(c);
      ++i;
    }
  }
  if (changed) s = std::move(out);
  return changed;
}

// IIS decodes until nothing changes (libddwaf does too, for %25-nested escapes); capped so the
// cost stays linear.
void url_decode_iis(std::string& s) {
  for (int pass = 0; pass < 4 && url_decode_pass(s, true); ++pass) {
  }
}

int base64_value(char c, bool url) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == (url ? '-' : '+')) return 62;
  if (c == (url ? '_' : '/')) return 63;
  return -1;
}

// Lenient: decodes the longest valid prefix (stopping at padding or any other byte); a trailing
// partial group yields the whole bytes it holds.
void base64_decode(std::string& s, bool url) {
  std::size_t w = 0;
  std::uint32_t bits = 0;
  int count = 0;
  for (const char c : s) {
    const int v = base64_value(c, url);
    if (v < 0) break;
    bits = (bits << 6 | static_cast<std::uint32_t>(v)) & 0xFFFFFF;
    count += 6;
    if (count >= 8) {
      count -= 8;
      s[w++] = static_cast<char>((bits >> count) & 0xFF);  // w trails the read position
    }
  }
  s.resize(w);
}

void base64_encode(std::string& s) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((s.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= s.size(); i += 3) {
    const std::uint32_t v = static_cast<unsigned char>(s[i]) << 16 |
                            static_cast<unsigned char>(s[i + 1]) << 8 | static_cast<unsigned char>(s[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out.push_back(kAlphabet[(v >> shift) & 0x3F]);
  }
  if (i < s.size()) {
    std::uint32_t v = static_cast<unsigned char>(s[i]) << 16;
    if (i + 1 < s.size()) v |= static_cast<unsigned char>(s[i + 1]) << 8;
    out.push_back(kAlphabet[(v >> 18) & 0x3F]);
    out.push_back(kAlphabet[(v >> 12) & 0x3F]);
    out.push_back(i + 1 < s.size() ? kAlphabet[(v >> 6) & 0x3F] : '=');
    out.push_back('=');
  }
  s = std::move(out);
}

// ModSecurity's cmdLine: drop \ " ' ^, turn , and ; into spaces, squeeze whitespace to one space,
// drop the space before / and (, lowercase. Quote characters are dropped before the squeeze, so
// "a \"(b" gives "a(b" (a shell would see the same).
void shell_unescape(std::string& s) {
  std::size_t w = 0;
  bool pending_space = false;
  for (const char c : s) {
    if (c == '\\' || c == '"' || c == '\'' || c == '^') continue;
    if (is_space(c) || c == ',' || c == ';') {
      pending_space = true;
      continue;
    }
    if (pending_space && c != '/' && c != '(') s[w++] = ' ';
    pending_space = false;
    s[w++] = to_lower(c);
  }
  if (pending_space) s[w++] = ' ';
  s.resize(w);
}

// Removes /* */ and <!-- --> comments (an unterminated one runs to the end); `--`, `#` and `//`
// start a comment that, as in libddwaf, drops the rest of the value.
void remove_comments(std::string& s) {
  const std::string_view in(s);
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < in.size()) {
    const std::string_view rest = in.substr(i);
    if (rest.starts_with("<!--") || rest.starts_with("/*")) {
      const bool html = rest[0] == '<';
      const std::size_t end = in.find(html ? "-->" : "*/", i + (html ? 4 : 2));
      if (end == std::string_view::npos) break;
      i = end + (html ? 3 : 2);
      continue;
    }
    if (rest.starts_with("--") || rest.starts_with("#") || rest.starts_with("//")) break;
    out.push_back(in[i++]);
  }
  s = std::move(out);
}

std::size_t path_end(const std::string& s) {
  const std::size_t end = s.find_first_of("?#");
  return end == std::string::npos ? s.size() : end;
}

void url_basename(std::string& s) {
  s.resize(path_end(s));
  const std::size_t slash = s.rfind('/');
  if (slash != std::string::npos) s.erase(0, slash + 1);
}

void url_path(std::string& s) { s.resize(path_end(s)); }

// The text between the first '?' of the path and the fragment; empty when there is no query.
void url_querystring(std::string& s) {
  const std::size_t end = path_end(s);
  if (end == s.size() || s[end] != '?') {
    s.clear();
    return;
  }
  const std::size_t fragment = s.find('#', end + 1);
  s = s.substr(end + 1, (fragment == std::string::npos ? s.size() : fragment) - end - 1);
}

}  // namespace

std::optional<Transformer> transformer_named(std::string_view name) {
  for (const Alias& alias : kNames) {
    if (alias.name == name) return alias.transformer;
  }
  return std::nullopt;
}

void transform(Transformer t, std::string& value) {
  switch (t) {
    case Transformer::lowercase:
      return lowercase(value);
    case Transformer::remove_nulls:
      return remove_nulls(value);
    case Transformer::compress_whitespace:
      return compress_whitespace(value);
    case Transformer::normalize_path:
      return normalize_path(value);
    case Transformer::normalize_path_win:
      return normalize_path_win(value);
    case Transformer::url_decode:
      url_decode_pass(value, false);
      return;
    case Transformer::url_decode_iis:
      return url_decode_iis(value);
    case Transformer::html_entity_decode:
      return decode::html_entities(value);
    case Transformer::js_decode:
      return decode::js_escapes(value);
    case Transformer::css_decode:
      return decode::css_escapes(value);
    case Transformer::base64_decode:
      return base64_decode(value, false);
    case Transformer::base64url_decode:
      return base64_decode(value, true);
    case Transformer::base64_encode:
      return base64_encode(value);
    case Transformer::shell_unescape:
      return shell_unescape(value);
    case Transformer::remove_comments:
      return remove_comments(value);
    case Transformer::unicode_normalize:
      return decode::unicode_normalize(value);
    case Transformer::url_basename:
      return url_basename(value);
    case Transformer::url_path:
      return url_path(value);
    case Transformer::url_querystring:
      return url_querystring(value);
  }
}

}  // namespace gw::appsec::detail

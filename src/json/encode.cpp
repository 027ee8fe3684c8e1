// Go encoding/json Marshal output for map[string]interface{} trees (see json.h).
#include <algorithm>
#include <array>
#include <cstring>

#include "json/json.h"
#include "json/utf8.h"

namespace gw::json {
namespace {

// Bytes that can be copied verbatim: printable ASCII except '"', '\\' and the HTML-sensitive <, >, &.
constexpr std::array<bool, 256> make_safe_table() {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x80; ++c) t[c] = true;
  t['"'] = t['\\'] = t['<'] = t['>'] = t['&'] = false;
  return t;
}
constexpr auto kSafe = make_safe_table();
constexpr char kHex[] = "0123456789abcdef";

void encode_value(const Value& v, std::string& out);

void encode_object(const Value& v, std::string& out) {
  const Object& obj = v.as_object();
  out.push_back('{');
  if (v.keep_order() || obj.size() < 2) {
    bool first = true;
    for (const auto& m : obj) {
      if (!first) out.push_back(',');
      first = false;
      encode_string(m.first, out);
      out.push_back(':');
      encode_value(m.second, out);
    }
  } else {
    // Sort pointers, not members: the tree is const and members may be large.
    constexpr std::size_t kInline = 16;
    std::array<const Member*, kInline> small;
    std::vector<const Member*> big;
    const Member** b;
    if (obj.size() <= kInline) {
      b = small.data();
    } else {
      big.resize(obj.size());
      b = big.data();
    }
    for (std::size_t i = 0; i < obj.size(); ++i) b[i] = &obj[i];
    const Member** e = b + obj.size();
    std::sort(b, e, [](const Member* x, const Member* y) { return x->first < y->first; });
    for (const Member** it = b; it != e; ++it) {
      if (it != b) out.push_back(',');
      encode_string((*it)->first, out);
      out.push_back(':');
      encode_value((*it)->second, out);
    }
  }
  out.push_back('}');
}

void encode_value(const Value& v, std::string& out) {
  switch (v.kind()) {
    case Kind::Null:
      out.append("null");
      return;
    case Kind::Bool:
      out.append(v.as_bool() ? "true" : "false");
      return;
    case Kind::Number:
      out.append(v.number_text().empty() ? std::string_view("0") : std::string_view(v.number_text()));
      return;
    case Kind::String:
      encode_string(v.as_string(), out);
      return;
    case Kind::Array: {
      out.push_back('[');
      bool first = true;
      for (const auto& e : v.as_array()) {
        if (!first) out.push_back(',');
        first = false;
        encode_value(e, out);
      }
      out.push_back(']');
      return;
    }
    case Kind::Object:
      encode_object(v, out);
      return;
  }
}

}  // namespace

void encode_string(std::string_view s, std::string& out) {
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n && kSafe[static_cast<unsigned char>(s[i])]) ++i;
  if (i == n) {  // most keys and values: nothing to escape, so one append and a copy
    const std::size_t at = out.size();
    out.append(n + 2, '"');
    if (n) std::memcpy(out.data() + at + 1, s.data(), n);
    return;
  }
  out.reserve(out.size() + n + 2);
  out.push_back('"');
  std::size_t start = 0;
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (kSafe[c]) {
      ++i;
      continue;
    }
    if (c < 0x80) {
      out.append(s.data() + start, i - start);
      switch (c) {
        case '"':
          out.append("\\\"");
          break;
        case '\\':
          out.append("\\\\");
          break;
        // Go >= 1.22 writes \b and \f as short escapes (KrakenD 2.13 is built with a newer Go).
        case '\b':
          out.append("\\b");
          break;
        case '\f':
          out.append("\\f");
          break;
        case '\n':
          out.append("\\n");
          break;
        case '\r':
          out.append("\\r");
          break;
        case '\t':
          out.append("\\t");
          break;
        default:  // other control bytes and < > &
          out.append("\\u00");
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
      }
      start = ++i;
      continue;
    }
    std::size_t size = 0;
    const char32_t r = utf8::decode(s.substr(i), size);
    if (r == utf8::kRuneError && size == 1) {
      out.append(s.data() + start, i - start);
      out.append("\\ufffd");
      start = ++i;
      continue;
    }
    if (r == 0x2028 || r == 0x2029) {
      out.append(s.data() + start, i - start);
      out.append(r == 0x2028 ? "\\u2028" : "\\u2029");
      i += size;
      start = i;
      continue;
    }
    i += size;
  }
  out.append(s.data() + start, n - start);
  out.push_back('"');
}

void encode(const Value& value, std::string& out) { encode_value(value, out); }

std::string encode(const Value& value) {
  std::string out;
  encode_value(value, out);
  return out;
}

}  // namespace gw::json

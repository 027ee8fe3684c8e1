// Sequential proxy parameters: {respN_a.b} in a url_pattern takes a value from backend N's shaped
// response, stringified like Lura's sequentialMerge (fmt "%v" for anything that is not a string).
#include <algorithm>

#include "response/response.h"

namespace gw::response {
namespace {

using json::Kind;
using json::Value;

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.';
}

// Lura walks every segment but the last while it finds objects, then looks the last segment up in
// the deepest object reached (so a missing middle segment falls back to a shallower lookup).
const Value* lookup(const Value& root, std::string_view path) {
  const Value* data = &root;
  std::size_t start = 0;
  for (;;) {
    std::size_t dot = path.find('.', start);
    if (dot == std::string_view::npos) break;
    const Value* v = data->find(path.substr(start, dot - start));
    if (!v || !v->is_object()) break;
    data = v;
    start = dot + 1;
  }
  std::size_t last = path.rfind('.');
  return data->find(last == std::string_view::npos ? path : path.substr(last + 1));
}

void append_param(const Value& v, std::string& out) {
  if (v.is_string()) {
    out += v.as_string();
  } else if (v.is_array()) {
    bool first = true;
    for (const auto& e : v.as_array()) {
      if (!first) out += ',';
      first = false;
      append_go_value(e, out);
    }
  } else {
    append_go_value(v, out);
  }
}

}  // namespace

void append_go_value(const Value& v, std::string& out) {
  switch (v.kind()) {
    case Kind::Null:
      out += "<nil>";
      return;
    case Kind::Bool:
      out += v.as_bool() ? "true" : "false";
      return;
    case Kind::Number:
      out += v.number_text();
      return;
    case Kind::String:
      out += v.as_string();
      return;
    case Kind::Array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.as_array()) {
        if (!first) out += ' ';
        first = false;
        append_go_value(e, out);
      }
      out += ']';
      return;
    }
    case Kind::Object: {
      std::vector<const json::Member*> ms;
      for (const auto& m : v.as_object()) ms.push_back(&m);
      if (v.keep_order()) {  // a Go struct prints as {v1 v2 ...}
        out += '{';
        for (std::size_t i = 0; i < ms.size(); ++i) {
          if (i) out += ' ';
          append_go_value(ms[i]->second, out);
        }
        out += '}';
        return;
      }
      std::sort(ms.begin(), ms.end(), [](auto* a, auto* b) { return a->first < b->first; });
      out += "map[";
      for (std::size_t i = 0; i < ms.size(); ++i) {
        if (i) out += ' ';
        out += ms[i]->first;
        out += ':';
        append_go_value(ms[i]->second, out);
      }
      out += ']';
      return;
    }
  }
}

std::string substitute_sequential(std::string_view pattern, const std::vector<const Value*>& previous) {
  std::string out;
  out.reserve(pattern.size() + 32);
  std::size_t pos = 0;
  for (;;) {
    std::size_t open = pattern.find("{resp", pos);
    if (open == std::string_view::npos) break;
    std::size_t i = open + 5;
    std::size_t index = 0;
    const std::size_t digits_at = i;
    while (i < pattern.size() && pattern[i] >= '0' && pattern[i] <= '9' && i - digits_at < 9)
      index = index * 10 + static_cast<std::size_t>(pattern[i++] - '0');
    bool ok = i > digits_at && i < pattern.size() && pattern[i] == '_';
    std::size_t name_at = i + 1, close = name_at;
    if (ok) {
      while (close < pattern.size() && name_char(pattern[close])) ++close;
      ok = close > name_at && close < pattern.size() && pattern[close] == '}';
    }
    out.append(pattern.substr(pos, open - pos));
    const Value* found = nullptr;
    if (ok && index < previous.size() && previous[index])
      found = lookup(*previous[index], pattern.substr(name_at, close - name_at));
    if (found) {
      append_param(*found, out);
      pos = close + 1;
    } else {
      // Leave the text as written; resume after "{resp" so a nested candidate is still seen.
      out.append(pattern.substr(open, 5));
      pos = open + 5;
    }
  }
  out.append(pattern.substr(pos));
  return out;
}

}  // namespace gw::response

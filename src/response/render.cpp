// Output renderers (Lura router/gin/render.go as wired by KrakenD CE): json, json-collection, string,
// xml (krakend-xml / mxj), yaml (gin) and Accept-based negotiation.
#include <algorithm>
#include <array>

#include "response/response.h"

namespace gw::response {
namespace {

using json::Kind;
using json::Value;

constexpr std::string_view kJson = "application/json; charset=utf-8";
constexpr std::string_view kText = "text/plain; charset=utf-8";
constexpr std::string_view kXml = "application/xml";
constexpr std::string_view kXmlNil = "application/xml; charset=utf-8";
constexpr std::string_view kYaml = "application/yaml; charset=utf-8";  // gin v1.12 render/yaml.go

std::vector<const json::Member*> sorted_members(const Value& v) {
  std::vector<const json::Member*> ms;
  ms.reserve(v.as_object().size());
  for (const auto& m : v.as_object()) ms.push_back(&m);
  if (!v.keep_order()) std::sort(ms.begin(), ms.end(), [](auto* a, auto* b) { return a->first < b->first; });
  return ms;
}

void scalar_text(const Value& v, std::string& out) {
  switch (v.kind()) {
    case Kind::Bool:
      out += v.as_bool() ? "true" : "false";
      break;
    case Kind::Number:
      out += v.number_text();
      break;
    case Kind::String:
      out += v.as_string();
      break;
    default:
      break;
  }
}

// ------------------------------------------------------------------ xml

void xml_escape(std::string_view s, std::string& out) {
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out.push_back(c);
    }
  }
}

// false when an attribute ("-name") holds an object, array or null: mxj's Xml() then fails and
// krakend-xml's renderer writes no body at all.
bool xml_element(std::string_view key, const Value& v, std::string& out) {
  if (v.is_array()) {
    if (v.as_array().empty()) {
      out.append("<").append(key).append("/>");
      return true;
    }
    for (const auto& e : v.as_array())
      if (!xml_element(key, e, out)) return false;
    return true;
  }
  out.append("<").append(key);
  if (v.is_object()) {
    // "-name" members are attributes and "#text" is the element text (mxj conventions).
    const Value* text = nullptr;
    std::vector<const json::Member*> children;
    for (const auto* m : sorted_members(v)) {
      if (m->first.size() > 1 && m->first[0] == '-') {
        const Kind k = m->second.kind();
        if (k != Kind::String && k != Kind::Number && k != Kind::Bool) return false;
        out.append(" ").append(std::string_view(m->first).substr(1)).append("=\"");
        std::string t;
        scalar_text(m->second, t);
        xml_escape(t, out);
        out.append("\"");
      } else if (m->first == "#text") {
        text = &m->second;
      } else {
        children.push_back(m);
      }
    }
    if (children.empty() && !text) {
      out.append("/>");
      return true;
    }
    out.append(">");
    if (text) {
      std::string t;
      scalar_text(*text, t);
      xml_escape(t, out);
    }
    for (const auto* m : children)
      if (!xml_element(m->first, m->second, out)) return false;
  } else {
    std::string t;
    scalar_text(v, t);
    if (t.empty()) {
      out.append("/>");
      return true;
    }
    out.append(">");
    xml_escape(t, out);
  }
  out.append("</").append(key).append(">");
  return true;
}

std::string render_xml(const Value& data) {
  std::string out;
  if (data.is_object() && data.as_object().size() == 1) {
    const auto& [key, value] = data.as_object().front();
    bool all_objects = true;
    if (value.is_array())
      for (const auto& e : value.as_array()) all_objects = all_objects && e.is_object();
    if (all_objects) return xml_element(key, value, out) ? out : std::string();
  }
  return xml_element("doc", data.is_object() ? data : Value::object(), out) ? out : std::string();
}

// ------------------------------------------------------------------ yaml

bool yaml_resolves_to_non_string(std::string_view s) {
  static constexpr std::array<std::string_view, 22> kWords = {
      "",    "~",   "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE",
      "yes", "Yes", "YES",  "no",   "No",   "NO",   "on",   "On",   "ON",    "off",   "Off"};
  for (auto w : kWords)
    if (s == w) return true;
  if (s == "OFF" || s == "y" || s == "Y" || s == "n" || s == "N" || s == ".inf" || s == "-.inf" ||
      s == ".nan")
    return true;
  // numbers (int, float, 0x.., 0o..)
  std::size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i >= s.size()) return false;
  bool digit = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      digit = true;
    } else if (c != '.' && c != 'e' && c != 'E' && c != '-' && c != '+' && c != '_' && c != 'x' && c != 'o') {
      return false;
    }
  }
  return digit;
}

bool yaml_plain_ok(std::string_view s) {
  if (s.empty() || s.front() == ' ' || s.back() == ' ') return false;
  static constexpr std::string_view kBadFirst = "?:,[]{}#&*!|>'\"%@`";
  if (kBadFirst.find(s.front()) != std::string_view::npos) return false;
  if (s.front() == '-' && (s.size() == 1 || s[1] == ' ')) return false;
  if (s.find(": ") != s.npos || s.find(" #") != s.npos || s.back() == ':') return false;
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

void yaml_string(std::string_view s, std::string& out) {
  if (yaml_resolves_to_non_string(s) || s.find_first_of("\n\r\t") != s.npos ||
      std::any_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; })) {
    json::encode_string(s, out);  // double-quoted; JSON escapes are valid YAML escapes
    return;
  }
  if (yaml_plain_ok(s)) {
    out += s;
    return;
  }
  out += '\'';
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
}

bool yaml_inline(const Value& v, std::string& out) {
  switch (v.kind()) {
    case Kind::Null:
      out += "null";
      return true;
    case Kind::String:
      yaml_string(v.as_string(), out);
      return true;
    case Kind::Array:
      if (!v.as_array().empty()) return false;
      out += "[]";
      return true;
    case Kind::Object:
      if (!v.as_object().empty()) return false;
      out += "{}";
      return true;
    default:
      scalar_text(v, out);
      return true;
  }
}

void yaml_seq(const Value& v, std::size_t indent, std::string& out, bool inline_first);

void yaml_map(const Value& v, std::size_t indent, std::string& out, bool inline_first) {
  bool first = true;
  for (const auto* m : sorted_members(v)) {
    if (!first || !inline_first) out.append(indent, ' ');
    first = false;
    yaml_string(m->first, out);
    out += ':';
    std::string scalar;
    if (yaml_inline(m->second, scalar)) {
      out.append(" ").append(scalar).append("\n");
    } else if (m->second.is_object()) {
      out += '\n';
      yaml_map(m->second, indent + 2, out, false);
    } else {
      out += '\n';
      yaml_seq(m->second, indent, out, false);
    }
  }
}

void yaml_seq(const Value& v, std::size_t indent, std::string& out, bool inline_first) {
  bool first = true;
  for (const auto& e : v.as_array()) {
    if (!first || !inline_first) out.append(indent, ' ');
    first = false;
    out += "- ";
    std::string scalar;
    if (yaml_inline(e, scalar)) {
      out.append(scalar).append("\n");
    } else if (e.is_object()) {
      yaml_map(e, indent + 2, out, true);
    } else {
      yaml_seq(e, indent + 2, out, true);
    }
  }
}

std::string render_yaml(const Value& data) {
  std::string out;
  if (yaml_inline(data, out)) {
    out += '\n';
  } else if (data.is_object()) {
    yaml_map(data, 0, out, false);
  } else {
    yaml_seq(data, 0, out, false);
  }
  return out;
}

// gin's Context.NegotiateFormat over (json, text/plain, xml, x-yaml).
std::string_view negotiate(std::string_view accept) {
  static constexpr std::array<std::string_view, 4> kOffers = {"application/json", "text/plain",
                                                              "application/xml", "application/x-yaml"};
  bool any = false;
  std::size_t pos = 0;
  while (pos <= accept.size()) {
    std::size_t comma = accept.find(',', pos);
    std::string_view part = accept.substr(pos, comma == accept.npos ? accept.npos : comma - pos);
    pos = comma == accept.npos ? accept.size() + 1 : comma + 1;
    part = part.substr(0, part.find(';'));
    while (!part.empty() && (part.front() == ' ' || part.front() == '\t')) part.remove_prefix(1);
    while (!part.empty() && (part.back() == ' ' || part.back() == '\t')) part.remove_suffix(1);
    if (part.empty()) continue;
    any = true;
    for (auto offer : kOffers) {
      std::size_t i = 0;
      for (; i < part.size() && i < offer.size(); ++i) {
        if (part[i] == '*' || offer[i] == '*') return offer;
        if (part[i] != offer[i]) break;
      }
      if (i == part.size()) return offer;
    }
  }
  return any ? std::string_view{} : kOffers[0];
}

bool is_renderer(std::string_view name) {
  return name == "json" || name == "json-collection" || name == "string" || name == "xml" || name == "yaml" ||
         name == "negotiate" || name == "no-op";
}

}  // namespace

std::string_view effective_output_encoding(std::string_view output_encoding,
                                           const std::vector<std::string_view>& backend_encodings) {
  std::string_view fallback = "json";
  if (backend_encodings.size() == 1) {
    // Return a view of a literal, never of the caller's string.
    for (std::string_view n : {"json-collection", "string", "xml", "yaml", "negotiate", "no-op"})
      if (backend_encodings[0] == n) fallback = n;
  }
  if (output_encoding.empty() || !is_renderer(output_encoding)) return fallback;
  for (std::string_view n : {"json", "json-collection", "string", "xml", "yaml", "negotiate", "no-op"})
    if (output_encoding == n) return n;
  return fallback;
}

Rendered render(std::string_view enc, const Value* data, std::string_view accept) {
  if (enc == "negotiate") {
    std::string_view f = negotiate(accept);
    enc = f == "application/xml" ? "xml" : (f == "text/plain" || f == "application/x-yaml") ? "yaml" : "json";
  }
  Rendered r;
  if (enc == "string") {
    r.content_type = kText;
    const Value* c = data ? data->find("content") : nullptr;
    if (c && c->is_string()) r.body = c->as_string();
    return r;
  }
  if (enc == "json-collection") {
    r.content_type = kJson;
    const Value* c = data ? data->find("collection") : nullptr;
    r.body = c ? json::encode(*c) : "[]";
    return r;
  }
  if (enc == "xml") {
    if (!data) {
      r.content_type = kXmlNil;
      return r;
    }
    r.content_type = kXml;
    r.body = render_xml(*data);
    return r;
  }
  if (enc == "yaml") {
    r.content_type = kYaml;
    r.body = data ? render_yaml(*data) : "{}\n";
    return r;
  }
  r.content_type = kJson;
  if (!data) {
    r.body = "{}";
  } else {
    r.body.reserve(256);
    json::encode(*data, r.body);
  }
  return r;
}

}  // namespace gw::response

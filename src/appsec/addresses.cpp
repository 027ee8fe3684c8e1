// Builds the WAF's addresses from one request, as Datadog's proxies collect them
// (docs/datadog-appsec.md section 5): headers by lowercased name, cookies, decoded query, path
// params, the parsed body. Sizes are capped here and in the walk, so a hostile request costs a
// bounded amount of work.
#include <algorithm>

#include "appsec/inspect.h"

namespace gw::appsec {

namespace {

constexpr std::size_t kMaxBodyBytes = 64 * 1024;  // parsed; the rest of a larger body is not inspected
constexpr std::size_t kMaxFields = 512;           // query / form / cookie entries kept

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding: '+' is a space, invalid escapes stay as written.
std::string form_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Adds key -> value, turning a repeated key into an array of its values (in order).
void add_multi(json::Object& map, std::string key, std::string value) {
  for (auto& [k, v] : map) {
    if (k != key) continue;
    if (!v.is_array()) {
      json::Array values;
      values.push_back(std::move(v));
      v = json::Value(std::move(values));
    }
    v.as_array().emplace_back(std::move(value));
    return;
  }
  map.emplace_back(std::move(key), json::Value(std::move(value)));
}

json::Value parse_form(std::string_view text) {
  json::Value out = json::Value::object();
  auto& map = out.as_object();
  std::size_t fields = 0;
  while (!text.empty() && fields++ < kMaxFields) {
    const std::size_t amp = text.find('&');
    std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    std::string key = form_decode(pair.substr(0, eq));
    std::string value = eq == std::string_view::npos ? std::string() : form_decode(pair.substr(eq + 1));
    add_multi(map, std::move(key), std::move(value));
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool media_type_is(std::string_view content_type, std::string_view prefix) {
  content_type = content_type.substr(0, content_type.find(';'));
  while (!content_type.empty() && content_type.back() == ' ') content_type.remove_suffix(1);
  return content_type.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), content_type.begin(),
                    [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); });
}

json::Value parse_cookies(const std::vector<Field>& headers) {
  json::Value out = json::Value::object();
  std::size_t fields = 0;
  for (const auto& h : headers) {
    if (h.name.size() != 6 || lower(h.name) != "cookie") continue;
    std::string_view rest = h.value;
    while (!rest.empty() && fields++ < kMaxFields) {
      const std::size_t semi = rest.find(';');
      std::string_view pair = rest.substr(0, semi);
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      if (pair.empty()) continue;
      const std::size_t eq = pair.find('=');
      add_multi(out.as_object(), std::string(pair.substr(0, eq)),
                eq == std::string_view::npos ? std::string() : std::string(pair.substr(eq + 1)));
    }
  }
  return out;
}

// A media type parameter's value (`boundary=...`, quoted or not), or "".
std::string_view media_parameter(std::string_view content_type, std::string_view name) {
  for (std::size_t semi = content_type.find(';'); semi != std::string_view::npos;
       semi = content_type.find(';', semi + 1)) {
    std::string_view p = content_type.substr(semi + 1);
    while (!p.empty() && p.front() == ' ') p.remove_prefix(1);
    if (p.size() <= name.size() || p[name.size()] != '=' || lower(p.substr(0, name.size())) != name) continue;
    p = p.substr(name.size() + 1);
    if (!p.empty() && p.front() == '"') {
      p.remove_prefix(1);
      return p.substr(0, p.find('"'));
    }
    return p.substr(0, p.find_first_of("; "));
  }
  return {};
}

// multipart/form-data (RFC 7578): part name -> its content, like a form (repeated names become arrays).
// Part headers other than Content-Disposition's name are not kept. nullopt when it is not well formed.
std::optional<json::Value> parse_multipart(std::string_view body, std::string_view boundary) {
  if (boundary.empty() || boundary.size() > 200) return std::nullopt;
  const std::string delimiter = "--" + std::string(boundary);
  std::size_t at = body.find(delimiter);
  if (at == std::string_view::npos) return std::nullopt;
  json::Value out = json::Value::object();
  std::size_t parts = 0;
  while (parts++ < kMaxFields) {
    at += delimiter.size();
    if (body.substr(at, 2) == "--") break;  // the closing delimiter
    const std::size_t head_end = body.find("\r\n\r\n", at);
    if (head_end == std::string_view::npos) break;
    const std::string_view head = body.substr(at, head_end - at);
    const std::size_t next = body.find("\r\n" + delimiter, head_end + 4);
    const std::string_view content = body.substr(
        head_end + 4, next == std::string_view::npos ? std::string_view::npos : next - head_end - 4);
    std::string name;
    for (std::size_t line = 0; line < head.size();) {
      const std::size_t end = std::min(head.find("\r\n", line), head.size());
      const std::string_view field = head.substr(line, end - line);
      if (lower(field.substr(0, 20)) == "content-disposition:")
        name = std::string(media_parameter(field, "name"));
      line = end + 2;
    }
    add_multi(out.as_object(), std::move(name), std::string(content));
    if (next == std::string_view::npos) break;  // cut short: what came is kept
    at = next + 2;
  }
  return out;
}

}  // namespace

json::Value parse_query(std::string_view target) {
  const std::size_t q = target.find('?');
  return parse_form(q == std::string_view::npos ? std::string_view() : target.substr(q + 1));
}

std::optional<json::Value> parse_body(std::string_view body, std::string_view content_type) {
  if (body.empty()) return std::nullopt;
  const std::string_view head = body.substr(0, kMaxBodyBytes);
  if (media_type_is(content_type, "application/x-www-form-urlencoded")) return parse_form(head);
  if (media_type_is(content_type, "multipart/form-data"))
    if (auto parts = parse_multipart(head, media_parameter(content_type, "boundary"))) return parts;
  const std::string_view type = content_type.substr(0, content_type.find(';'));
  const bool json_type = media_type_is(content_type, "application/json") ||
                         (type.size() >= 5 && lower(type.substr(type.size() - 5)) == "+json");
  if (json_type && head.size() == body.size()) {
    if (auto doc = json::parse(head, nullptr, json::ParseOptions{.allow_trailing = false, .max_depth = 64}))
      return doc;
  }
  // Not parsable (or cut): the text itself, so a payload cannot hide behind a syntax error.
  return json::Value(std::string(head));
}

void collect_addresses(const RequestView& r, const Waf::Impl& waf, Addresses& out) {
  auto used = [&](Address a) { return waf.used[static_cast<std::size_t>(a)]; };
  auto slot = [&](Address a) -> std::optional<json::Value>& {
    return out.values[static_cast<std::size_t>(a)];
  };
  if (used(Address::uri_raw)) slot(Address::uri_raw) = json::Value(std::string(r.target));
  if (used(Address::method)) slot(Address::method) = json::Value(std::string(r.method));
  std::string_view content_type;
  json::Value headers = json::Value::object();
  for (const auto& h : r.headers) {
    std::string name = lower(h.name);
    if (name == "content-type" && content_type.empty()) content_type = h.value;
    if (name == "cookie" || !used(Address::headers)) continue;
    add_multi(headers.as_object(), std::move(name), std::string(h.value));
  }
  if (used(Address::headers)) slot(Address::headers) = std::move(headers);
  if (used(Address::cookies)) slot(Address::cookies) = parse_cookies(r.headers);
  if (used(Address::query)) slot(Address::query) = parse_query(r.target);
  if (used(Address::path_params)) {
    json::Value params = json::Value::object();
    for (const auto& p : r.path_params)
      params.as_object().emplace_back(std::string(p.name), std::string(p.value));
    slot(Address::path_params) = std::move(params);
  }
  if (used(Address::body)) slot(Address::body) = parse_body(r.body, content_type);
  if (used(Address::client_ip) && !out.client_ip.empty())
    slot(Address::client_ip) = json::Value(out.client_ip);
}

}  // namespace gw::appsec

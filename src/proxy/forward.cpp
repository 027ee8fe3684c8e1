#include "proxy/forward.h"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <boost/beast/core/string.hpp>
#include <cctype>

namespace gw::proxy {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Go's url.QueryUnescape; false on a bad escape.
bool query_unescape(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = router::hex_digit(in[i + 1]), lo = router::hex_digit(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return true;
}

// Go's url.QueryEscape.
void query_escape(std::string_view in, std::string& out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : in) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
}

// Escapes what may not appear raw in a request path (Go's EscapedPath does the same on send).
void path_escape(std::string_view in, std::string& out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : in) {
    bool safe = std::isalnum(c) ||
                std::string_view("-_.~!$&'()*+,;=:@/%").find(static_cast<char>(c)) != std::string_view::npos;
    if (safe) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
}

// Go's requestMethodUsuallyLacksBody: a body of unknown length is probed, and an empty one not sent.
bool usually_lacks_body(std::string_view m) {
  return m == "GET" || m == "HEAD" || m == "DELETE" || m == "OPTIONS" || m == "PROPFIND" || m == "SEARCH";
}

}  // namespace

bool is_hop_by_hop(std::string_view name) {
  using boost::beast::iequals;
  // Proxy-* (and the bare "Proxy" header, httpoxy) only ever concern the hop that received them.
  const bool proxy =
      name.size() >= 5 && iequals(name.substr(0, 5), "proxy") && (name.size() == 5 || name[5] == '-');
  return proxy || iequals(name, "connection") || iequals(name, "keep-alive") || iequals(name, "te") ||
         iequals(name, "trailer") || iequals(name, "transfer-encoding") || iequals(name, "upgrade");
}

namespace {
// Whether the comma-separated token list names `name` (case-insensitive, blanks around tokens ignored).
bool list_names(std::string_view list, std::string_view name) {
  while (!list.empty()) {
    std::size_t comma = list.find(',');
    std::string_view token = list.substr(0, comma);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
    if (boost::beast::iequals(token, name)) return true;
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
  }
  return false;
}
}  // namespace

bool named_in_connection(const server::Fields& fields, std::string_view name) {
  auto [begin, end] = fields.equal_range(http::field::connection);
  for (auto it = begin; it != end; ++it)
    if (list_names(it->value(), name)) return true;
  return false;
}

bool named_in_connection(const upstream::ResponseHead& head, std::string_view name) {
  for (const auto& f : head)
    if (f.name() == http::field::connection && list_names(f.value(), name)) return true;
  return false;
}

UrlTemplate UrlTemplate::compile(std::string_view pattern, const std::vector<std::string>& params) {
  UrlTemplate t;
  std::string literal;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '{') {
      auto close = pattern.find('}', i);
      if (close != std::string_view::npos) {
        std::string_view name = pattern.substr(i + 1, close - i - 1);
        auto it = std::find(params.begin(), params.end(), name);
        if (it != params.end()) {
          if (!literal.empty()) t.pieces.push_back({std::move(literal), -1});
          literal.clear();
          t.pieces.push_back({std::string(), static_cast<int>(it - params.begin())});
          if (!t.has_query) t.normalized += ":" + std::string(name);
          i = close;
          continue;
        }
      }
    }
    if (pattern[i] == '?') t.has_query = true;
    literal += pattern[i];
    if (!t.has_query) t.normalized += pattern[i];
  }
  if (!literal.empty()) t.pieces.push_back({std::move(literal), -1});
  return t;
}

void UrlTemplate::render(const router::Match& match, const std::vector<std::string>& params,
                         std::string& out) const {
  for (const auto& p : pieces) {
    if (p.param < 0) {
      out += p.literal;
    } else {
      path_escape(match.param(params[static_cast<std::size_t>(p.param)]), out);
    }
  }
}

HeaderFilter HeaderFilter::from(const std::vector<std::string>& list) {
  HeaderFilter f;
  for (const auto& n : list) {
    if (n == "*") f.all = true;
    f.names.push_back(lower(n));
  }
  return f;
}

bool HeaderFilter::allows(std::string_view name) const {
  if (all) return true;
  for (const auto& n : names)
    if (boost::beast::iequals(n, name)) return true;
  return false;
}

QueryFilter QueryFilter::from(const std::vector<std::string>& list) {
  QueryFilter f;
  for (const auto& n : list) {
    if (n == "*") f.all = true;
    f.names.push_back(n);
  }
  return f;
}

bool QueryFilter::allows(std::string_view name) const {
  return all || std::find(names.begin(), names.end(), name) != names.end();
}

std::string forwarded_query(std::string_view raw, const QueryFilter& endpoint, const QueryFilter& backend) {
  if (raw.empty() || !endpoint.active()) return {};
  std::vector<std::pair<std::string, std::string>> pairs;
  std::string key, value;
  std::size_t start = 0;
  while (start <= raw.size()) {
    std::size_t amp = raw.find('&', start);
    std::string_view part =
        raw.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    start = amp == std::string_view::npos ? raw.size() + 1 : amp + 1;
    // Go (1.17+) url.ParseQuery rejects pairs containing ';' ("invalid semicolon separator").
    if (part.empty() || part.find(';') != std::string_view::npos) continue;
    auto eq = part.find('=');
    if (!query_unescape(part.substr(0, eq), key)) continue;
    if (!query_unescape(eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1), value))
      continue;
    if (!endpoint.allows(key) || (backend.active() && !backend.allows(key))) continue;
    pairs.emplace_back(key, value);
  }
  // url.Values.Encode: keys sorted, values of one key in arrival order.
  std::stable_sort(pairs.begin(), pairs.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (const auto& [k, v] : pairs) {
    if (!out.empty()) out += '&';
    query_escape(k, out);
    out += '=';
    query_escape(v, out);
  }
  return out;
}

std::string client_ip(const server::Request& request, std::string_view peer_ip) {
  // Right to left over the hops; every proxy is trusted by default, so the left-most valid IP wins,
  // and one invalid entry voids the header (gin's validateHeader).
  auto valid_from = [](std::string_view header, std::string& ip) {
    std::size_t end = header.size();
    while (true) {
      std::size_t comma = header.rfind(',', end == 0 ? 0 : end - 1);
      bool first = comma == std::string_view::npos || end == 0;
      std::size_t begin = first ? 0 : comma + 1;
      std::string_view item = header.substr(begin, end - begin);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
      boost::system::error_code ec;
      boost::asio::ip::make_address(item, ec);
      if (ec) return false;
      if (first) {
        ip.assign(item);
        return true;
      }
      end = comma;
    }
  };
  std::string ip;
  for (auto field : {std::string_view("X-Forwarded-For"), std::string_view("X-Real-IP")}) {
    auto it = request.find(field);
    if (it != request.end() && valid_from(it->value(), ip)) return ip;
  }
  return std::string(peer_ip);
}

upstream::Request build_request(const ForwardContext& ctx, const BackendRoute& backend,
                                std::size_t host_index, std::string_view path_override,
                                std::string_view propagation_lines, bool* asked_for_gzip) {
  const auto& req = ctx.request;
  upstream::Request out;
  out.set_method(backend.method);
  std::string& target_text = out.open_target();
  if (!path_override.empty())
    target_text.append(path_override);
  else
    backend.url.render(ctx.match, ctx.endpoint_params, target_text);
  std::string_view target = req.target();
  auto q = target.find('?');
  if (q != std::string_view::npos) {
    std::string query = forwarded_query(target.substr(q + 1), ctx.endpoint_query, backend.backend_query);
    if (!query.empty()) {
      target_text += backend.url.has_query ? '&' : '?';
      target_text += query;
    }
  }
  out.close_target();
  out.set_authority(backend.authorities[host_index]);

  const HeaderFilter& second = backend.backend_headers;
  auto keep = [&](std::string_view name) { return !second.active() || second.allows(name); };
  bool forwarded_user_agent = false;
  bool forwarded_accept_encoding = false;
  bool forwarded_length = false;  // lura sets the outgoing length only from a forwarded Content-Length
  bool client_chunked = false;
  for (const auto& field : req) {
    std::string_view name = field.name_string();
    if (field.name() == http::field::transfer_encoding) client_chunked = true;
    if (!ctx.endpoint_headers.allows(name) || !keep(name)) continue;
    if (field.name() == http::field::content_length) forwarded_length = true;
    const bool accept_encoding = boost::beast::iequals(name, "accept-encoding");
    if (is_hop_by_hop(name) || boost::beast::iequals(name, "host") ||
        boost::beast::iequals(name, "content-length") || boost::beast::iequals(name, "x-forwarded-for") ||
        boost::beast::iequals(name, "x-forwarded-host") || named_in_connection(req.base(), name) ||
        (backend.decodes_body && accept_encoding))
      continue;
    if (boost::beast::iequals(name, "user-agent")) forwarded_user_agent = true;
    forwarded_accept_encoding |= accept_encoding;
    out.add_canonical(name, field.value());
  }
  if (forwarded_user_agent) {
    if (keep("X-Forwarded-Via")) out.add("X-Forwarded-Via", ctx.user_agent);
  } else if (keep("User-Agent")) {
    out.add("User-Agent", ctx.user_agent);
  }
  if (keep("X-Forwarded-For") && !ctx.client_ip.empty()) out.add("X-Forwarded-For", ctx.client_ip);
  if (keep("X-Forwarded-Host")) {
    auto host = req.find(http::field::host);
    if (host != req.end()) out.add("X-Forwarded-Host", host->value());
  }
  // Go's transport asks for gzip (and undoes it) when the request carries no Accept-Encoding; a
  // decoding backend never gets the client's, so it always asks. A no-op backend gets the client's
  // when it is forwarded, and its answer is relayed as it comes.
  const bool ask_for_gzip = backend.decodes_body || !forwarded_accept_encoding;
  if (ask_for_gzip) out.add("Accept-Encoding", "gzip");
  if (asked_for_gzip) *asked_for_gzip = ask_for_gzip;
  // Trace propagation: "Name: value\r\n" lines from the tracer, copied (their buffer is reused).
  out.add_lines(propagation_lines);
  // Body framing as Go's transport sends lura's request: the length when it is known (a forwarded
  // Content-Length, a body buffered for send_body_on_redirect, or none at all), else chunked.
  using Framing = upstream::Request::Framing;
  if (ctx.body_stream) {  // relayed as it arrives
    out.source = ctx.body_stream;
    const auto length = ctx.body_stream->length();
    if (forwarded_length && length) {
      out.framing = Framing::length;
      out.length = *length;
    } else {
      out.framing = Framing::chunked;
    }
    return out;
  }
  out.body = req.body();
  const bool known_length = forwarded_length || (backend.config && backend.config->send_body_on_redirect) ||
                            (out.body.empty() && !client_chunked);
  const std::string_view method = backend.method;
  if (known_length)
    out.framing =
        !out.body.empty() || (method != "GET" && method != "HEAD") ? Framing::length : Framing::none;
  else if (!out.body.empty() || !usually_lacks_body(method))
    out.framing = Framing::chunked;
  return out;
}

}  // namespace gw::proxy

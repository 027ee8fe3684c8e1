// Backend redirects are followed like Go's http.Client does for KrakenD: up to 10 hops,
// 301/302/303 turn into GET without a body, 307/308 repeat the request (a request with a body only
// with send_body_on_redirect), Referer is set.
#include <boost/system/errc.hpp>

#include "proxy/errors.h"

namespace gw::proxy {

namespace {

bool is_redirect(unsigned s) { return s == 301 || s == 302 || s == 303 || s == 307 || s == 308; }

// Rewrites the request line, Host and body framing of a prepared request head.
std::string redirected_head(std::string_view head, std::string_view method, std::string_view target,
                            std::string_view authority, std::string_view referer, bool drop_body) {
  std::string out;
  out.reserve(head.size() + referer.size() + 16);
  out.append(method);
  out += ' ';
  out.append(target);
  out += " HTTP/1.1\r\n";
  std::size_t pos = head.find("\r\n") + 2;
  while (pos < head.size()) {
    std::size_t end = head.find("\r\n", pos);
    std::string_view line = head.substr(pos, end - pos);
    pos = end + 2;
    if (line.empty()) break;
    if (line.rfind("Host:", 0) == 0) {
      out += "Host: ";
      out.append(authority);
      out += "\r\n";
      continue;
    }
    if (line.rfind("Referer:", 0) == 0) continue;
    if (drop_body && (line.rfind("Content-Length:", 0) == 0 || line.rfind("Transfer-Encoding:", 0) == 0))
      continue;
    out.append(line);
    out += "\r\n";
  }
  out += "Referer: ";
  out.append(referer);
  out += "\r\n\r\n";
  return out;
}

}  // namespace

Task<upstream::error_code> send_following_redirects(WorkerState& w, const upstream::Target& first_target,
                                                    std::string_view first_authority, std::string_view head,
                                                    upstream::RequestBody body,
                                                    upstream::Clock::time_point deadline,
                                                    upstream::Exchange& up, bool head_request,
                                                    bool resend_body) {
  auto ec = co_await w.client.send(first_target, head, body, deadline, up, head_request);
  if (ec || !is_redirect(up.status())) co_return ec;

  std::string current_head(head);
  upstream::Target target = first_target;
  std::string authority(first_authority);
  for (int hop = 1;; ++hop) {
    auto location_field = up.head().find(http::field::location);
    if (location_field == up.head().end())
      co_return upstream::error_code{};  // Go hands such a 3xx back as is
    std::string location(location_field->value());
    const unsigned status = up.status();
    // Go repeats a request body on 307/308 only when it can rewind it (GetBody, which KrakenD sets
    // with send_body_on_redirect); otherwise the 3xx itself is the response.
    if ((status == 307 || status == 308) && (!body.bytes.empty() || body.chunked) && !resend_body)
      co_return upstream::error_code{};
    w.client.finish(up);  // body unread: the connection is closed, not pooled
    if (hop > 10) co_return boost::system::errc::make_error_code(boost::system::errc::too_many_links);

    const std::size_t sp = current_head.find(' ');
    std::string method = current_head.substr(0, sp);
    std::string path = current_head.substr(sp + 1, current_head.find(' ', sp + 1) - sp - 1);
    const std::string referer = "http://" + authority + path;
    if (location.rfind("https://", 0) == 0)
      co_return boost::system::errc::make_error_code(boost::system::errc::protocol_not_supported);
    if (location.rfind("http://", 0) == 0) {
      std::string rest = location.substr(7);
      std::size_t slash = rest.find('/');
      authority = rest.substr(0, slash);
      path = slash == std::string::npos ? "/" : rest.substr(slash);
      std::size_t colon = authority.rfind(':');
      const std::string host = colon == std::string::npos ? authority : authority.substr(0, colon);
      const auto port = colon == std::string::npos ? 80 : std::atoi(authority.c_str() + colon + 1);
      if (port <= 0 || port > 65535 || host.empty())
        co_return boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
      target = upstream::Target(host, static_cast<std::uint16_t>(port));
    } else if (!location.empty() && location[0] == '/') {
      path = location;
    } else {
      path = path.substr(0, path.rfind('/', path.find('?')) + 1) + location;
    }
    const bool to_get =
        (status == 301 || status == 302 || status == 303) && method != "GET" && method != "HEAD";
    if (to_get) {
      method = "GET";
      body = {};
    }
    current_head = redirected_head(current_head, method, path, authority, referer, to_get);
    ec = co_await w.client.send(target, current_head, body, deadline, up, method == "HEAD");
    if (ec || !is_redirect(up.status())) co_return ec;
  }
}

}  // namespace gw::proxy

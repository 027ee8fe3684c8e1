// Backend redirects are followed like Go's http.Client does for KrakenD: up to 10 hops,
// 301/302/303 turn into GET without a body, 307/308 repeat the request (a request with a body only
// with send_body_on_redirect), Referer is set.
#include <boost/system/errc.hpp>

#include "proxy/errors.h"

namespace gw::proxy {

namespace {

bool is_redirect(unsigned s) { return s == 301 || s == 302 || s == 303 || s == 307 || s == 308; }

}  // namespace

Task<upstream::error_code> send_following_redirects(WorkerState& w, const upstream::Target& first_target,
                                                    const upstream::Request& request,
                                                    upstream::Clock::time_point deadline,
                                                    upstream::Exchange& up, bool resend_body) {
  auto ec = co_await w.client.send(first_target, request, deadline, up);
  if (ec || !is_redirect(up.status())) co_return ec;

  upstream::Request next = request;
  upstream::Target target = first_target;
  std::string authority(request.authority());
  for (int hop = 1;; ++hop) {
    auto location_field = up.head().find(http::field::location);
    if (location_field == up.head().end())
      co_return upstream::error_code{};  // Go hands such a 3xx back as is
    std::string location(location_field->value());
    const unsigned status = up.status();
    // Go repeats a request body on 307/308 only when it can rewind it (GetBody, which KrakenD sets
    // with send_body_on_redirect); otherwise the 3xx itself is the response.
    if ((status == 307 || status == 308) &&
        (!next.body.empty() || next.source || next.framing == upstream::Request::Framing::chunked) &&
        !resend_body)
      co_return upstream::error_code{};
    w.client.finish(up);  // body unread: the connection is closed, not pooled
    if (hop > 10) co_return boost::system::errc::make_error_code(boost::system::errc::too_many_links);

    std::string method(next.method());
    std::string path(next.target());
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
    // 301/302/303 turn a request with a body into a GET without one.
    if ((status == 301 || status == 302 || status == 303) && method != "GET" && method != "HEAD") {
      method = "GET";
      next.body = {};
      next.source = nullptr;
      next.framing = upstream::Request::Framing::none;
    }
    next.remove("Referer");
    next.set_line(method, path);
    next.change_authority(authority);
    next.add("Referer", referer);
    ec = co_await w.client.send(target, next, deadline, up);
    if (ec || !is_redirect(up.status())) co_return ec;
  }
}

}  // namespace gw::proxy

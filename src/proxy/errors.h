// Private to the proxy module: how failures become responses, in one place.
#pragma once

#include <string>

#include "proxy/endpoint.h"

namespace gw::proxy {

// KrakenD-style error text for a failed backend call, e.g.
// `Get "http://127.0.0.1:8081/x": context deadline exceeded`.
std::string transport_error(const BackendRoute& backend, std::size_t host, const upstream::error_code& ec);
// The span's error.type for the same failure: "timeout", "redirects" or "transport" (the other kinds
// of backend failure are "status" and "decode").
std::string_view error_type(const upstream::error_code& ec);

// Sends a request and follows backend redirects (Go http.Client semantics, 10 hops).
Task<upstream::error_code> send_following_redirects(WorkerState& w, const upstream::Target& target,
                                                    const upstream::Request& request,
                                                    upstream::Clock::time_point deadline,
                                                    upstream::Exchange& up, bool resend_body);

// The endpoint's error response (docs/krakend-behavior.md §4.2 step 6): X-Krakend headers, completed=false,
// body only with router.return_error_msg (with the backend's Content-Type when the error carries one).
Task<bool> write_error(server::Exchange& ex, const Endpoint& endpoint, unsigned status,
                       const std::string& message, const std::string& content_type);

// A request body that could not be read (too large, malformed, cut): the status the server's own
// reject would have given, as plain text, and the connection closes.
Task<bool> answer_body_failure(server::Exchange& ex, unsigned status);
inline Task<bool> answer_body_failure(server::Exchange& ex, const upstream::error_code& ec) {
  return answer_body_failure(ex, server::body_error_status(ec));
}

}  // namespace gw::proxy

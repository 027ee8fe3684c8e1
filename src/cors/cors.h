// KrakenD CE's `security/cors` as a pure policy: krakend-cors v2.2.1 defaults on top of rs/cors
// v1.11.1's request handling. No I/O; the options are compiled once, evaluate() is per request.
//
// Placement: KrakenD CE does not install this as a gin route middleware. executor.go wraps the
// server's whole http.Handler (cors.NewRunServerWithLogger -> krakend-cors/mux -> rs/cors
// Handler), so it runs before gin routes anything: for every request, including unmatched
// paths (404), unsupported methods and the __health/__debug/__echo endpoints. A preflight is
// answered before routing, so it succeeds even on a path with no endpoint. The caller must
// therefore evaluate before routing and add the headers before the endpoint (or the 404 page)
// writes its response. Because that mux wrapper is the one used, an unset
// options_success_status means rs/cors's 204, not the gin wrapper's 200.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace gw::cors {

struct RequestView {
  std::string_view method;  // request method as received (case-sensitive: "options" is no preflight)
  bool has_origin = false;
  std::string_view origin;               // Origin header value (first line)
  std::string_view request_method;       // Access-Control-Request-Method ("" if absent)
  std::string_view request_headers;      // Access-Control-Request-Headers, several lines joined with ","
  bool request_private_network = false;  // Access-Control-Request-Private-Network: true (exactly)
};

struct Header {
  std::string name;
  std::string value;
};

struct Outcome {
  bool answer_now = false;  // a preflight answered here: respond `status` with `headers` and no body;
                            // the endpoint is not called (false with options_passthrough)
  unsigned status = 0;      // only meaningful with answer_now
  // Preflight answer headers, or headers to add to the actual response, sorted by name (Go's wire
  // order). Add them, never replace: rs/cors appends "Vary" to any Vary already set.
  std::vector<Header> headers;
  // With the options' debug on: rs/cors's log lines for this request, '\n'-separated, without the
  // log timestamp. KrakenD logs each as `DEBUG: [CORS] <yyyy/mm/dd hh:mm:ss> <line>`. Else "".
  std::string debug;
};

class Policy {
 public:
  explicit Policy(const config::Cors& options);  // compiles everything once
  Outcome evaluate(const RequestView& request) const;

  // Effective settings after krakend-cors/rs/cors defaults, for logs and tests.
  unsigned options_success_status() const { return success_status_; }
  bool allows_any_origin() const { return origins_all_; }
  bool allows_any_header() const { return headers_all_; }
  const std::vector<std::string>& allowed_methods() const { return methods_; }
  const std::string& max_age_header() const { return max_age_; }  // "" = header not sent

 private:
  struct Wildcard {
    std::string prefix, suffix;
  };
  bool origin_allowed(std::string_view origin) const;
  bool method_allowed(std::string_view method) const;
  bool headers_accepted(std::string_view list) const;
  void preflight(const RequestView& request, Outcome& out) const;
  void actual(const RequestView& request, Outcome& out) const;

  bool origins_all_ = false;
  std::vector<std::string> origins_;  // lower-cased exact origins
  std::vector<Wildcard> wildcards_;   // lower-cased, split at the first '*'
  bool headers_all_ = false;
  std::vector<std::string> headers_;  // lower-cased, sorted (bytewise), unique
  std::size_t longest_header_ = 0;
  std::vector<std::string> methods_;  // as configured, compared case-sensitively
  std::string expose_;                // canonical names joined with ", "
  bool expose_set_ = false;
  std::string max_age_;
  std::string_view preflight_vary_;
  unsigned success_status_ = 204;
  bool credentials_ = false;
  bool private_network_ = false;
  bool passthrough_ = false;
  bool debug_ = false;
};

// Go's http.CanonicalHeaderKey: "x-foo-bar" -> "X-Foo-Bar"; returned unchanged when it holds a
// byte that is not a header token character.
std::string canonical_header_key(std::string_view name);

}  // namespace gw::cors

// Private to the proxy module: what a backend receives. KrakenD's zero-trust forwarding: only the
// allow-listed headers and query strings, plus User-Agent / X-Forwarded-For / X-Forwarded-Host.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "proxy/pipeline.h"
#include "router/router.h"
#include "server/server.h"
#include "upstream/upstream.h"

namespace gw::proxy {

namespace http = boost::beast::http;

// url_pattern split into literal text and endpoint-param references, compiled once.
struct UrlTemplate {
  struct Piece {
    std::string literal;
    int param = -1;  // index into the endpoint's params, or -1 for a literal
  };
  std::vector<Piece> pieces;
  bool has_query = false;  // url_pattern already carries "?..."
  std::string normalized;  // "/users/:id" form for metrics labels

  static UrlTemplate compile(std::string_view pattern, const std::vector<std::string>& endpoint_params);
  // Appends the path with decoded param values substituted (unsafe bytes percent-escaped).
  void render(const router::Match& match, const std::vector<std::string>& endpoint_params,
              std::string& out) const;
};

// Allow-list of header names (canonical compare is case-insensitive) or "*".
struct HeaderFilter {
  bool all = false;
  std::vector<std::string> names;  // lower-case
  bool active() const { return all || !names.empty(); }
  bool allows(std::string_view name) const;
  static HeaderFilter from(const std::vector<std::string>& list);
};

// Allow-list of query keys (case-sensitive) or "*".
struct QueryFilter {
  bool all = false;
  std::vector<std::string> names;
  bool active() const { return all || !names.empty(); }
  bool allows(std::string_view name) const;
  static QueryFilter from(const std::vector<std::string>& list);
};

// Everything needed to build one backend's request, prepared when the config is loaded.
struct BackendRoute {
  const config::Backend* config = nullptr;
  UrlTemplate url;
  HeaderFilter backend_headers;  // second-level filter (empty = inherit)
  QueryFilter backend_query;
  std::string method;
  std::string span_resource;  // "METHOD /normalized/pattern", the backend span's resource
  // The backend span's constant tags (span.kind, http.method), msgpack-encoded once.
  std::string span_tags;
  std::uint32_t span_tag_count = 0;
  std::vector<std::string> authorities;   // Host header per configured host
  std::vector<upstream::Target> targets;  // where to connect, per configured host
  // The gateway decodes this backend's body (not no-op): never let a forwarded Accept-Encoding
  // make the backend compress what we must parse.
  bool decodes_body = true;
  std::vector<std::shared_ptr<const BackendStage>> stages;  // around each call, in order
};

struct ForwardContext {
  const server::Request& request;
  std::string_view client_ip;  // already resolved from X-Forwarded-For / X-Real-IP / peer
  const router::Match& match;
  const std::vector<std::string>& endpoint_params;
  const HeaderFilter& endpoint_headers;
  const QueryFilter& endpoint_query;
  std::string_view user_agent;                 // "KrakenD Version x"
  const void* cancel_group = nullptr;          // the client request: upstream::Client::cancel ends its calls
  server::RequestBody* body_stream = nullptr;  // the body still arriving, streamed to the backend
};

// The request for `backend` on host number `host_index`, as KrakenD's zero-trust forwarding builds
// it; `propagation_lines` ("Name: value\r\n" lines from the tracer) are added as fields.
// `asked_for_gzip`, when given, tells whether the gateway added its own Accept-Encoding: gzip (then
// it must undo a gzip answer).
upstream::Request build_request(const ForwardContext& ctx, const BackendRoute& backend,
                                std::size_t host_index, std::string_view path_override,
                                std::string_view propagation_lines, bool* asked_for_gzip = nullptr);

// The encoded, sorted query KrakenD forwards (url.Values.Encode of the allowed keys).
std::string forwarded_query(std::string_view raw_query, const QueryFilter& endpoint,
                            const QueryFilter& backend);

// gin's ClientIP with default settings: left-most valid X-Forwarded-For, then X-Real-IP, then peer.
std::string client_ip(const server::Request& request, std::string_view peer_ip);

bool is_hop_by_hop(std::string_view name);

// RFC 9110 §7.6.1: a header named in a Connection header is hop-by-hop for this message too.
bool named_in_connection(const server::Fields& fields, std::string_view name);
bool named_in_connection(const upstream::ResponseHead& head, std::string_view name);

}  // namespace gw::proxy

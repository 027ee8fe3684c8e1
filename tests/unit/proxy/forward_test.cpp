// Header and query policy of what a backend receives (zero-trust forwarding, KrakenD §4.3).
#include "proxy/forward.h"

#include <gtest/gtest.h>

#include <memory_resource>

namespace gw::proxy {
namespace {

struct Fixture {
  std::pmr::monotonic_buffer_resource memory;
  server::Request request{std::piecewise_construct, std::make_tuple(),
                          std::make_tuple(server::FieldAllocator(&memory))};
  router::Match match;
  std::vector<std::string> params{"id"};
  HeaderFilter headers = HeaderFilter::from({"Content-Type"});
  QueryFilter query;
  BackendRoute backend;

  Fixture() {
    request.method(http::verb::get);
    request.target("/users/42?b=2&a=1&a=0&c=%20x");
    request.set(http::field::host, "gw.example:8080");
    request.set("Authorization", "Bearer t");
    request.set(http::field::content_type, "application/json");
    request.set("connection", "keep-alive, X-Hop");
    request.set("X-Hop", "secret");
    match.param_count = 1;
    match.params[0] = {"id", "42"};
    backend.url = UrlTemplate::compile("/u/{id}?fixed=1", params);
    backend.method = "GET";
    backend.authorities = {"backend:8000"};
  }
  std::string head(std::string_view ip = "10.0.0.1", bool* asked_for_gzip = nullptr) {
    ForwardContext ctx{request, ip, match, params, headers, query, "KrakenD Version 2.13.8"};
    return upstream::http1_head(build_request(ctx, backend, 0, {}, {}, asked_for_gzip));
  }
};

TEST(Forward, DefaultSendsOnlyContentTypePlusKrakenDHeaders) {
  Fixture f;
  std::string h = f.head();
  EXPECT_EQ(h.rfind("GET /u/42?fixed=1 HTTP/1.1\r\nHost: backend:8000\r\n", 0), 0u) << h;
  EXPECT_NE(h.find("Content-Type: application/json\r\n"), std::string::npos) << h;
  EXPECT_NE(h.find("User-Agent: KrakenD Version 2.13.8\r\n"), std::string::npos) << h;
  EXPECT_NE(h.find("X-Forwarded-For: 10.0.0.1\r\n"), std::string::npos) << h;
  EXPECT_NE(h.find("X-Forwarded-Host: gw.example:8080\r\n"), std::string::npos) << h;
  EXPECT_EQ(h.find("Authorization"), std::string::npos) << h;
  EXPECT_EQ(h.find("Content-Length"), std::string::npos) << "GET without body: no Content-Length";
  EXPECT_EQ(h.substr(h.size() - 4), "\r\n\r\n");
}

TEST(Forward, AllowListIsCaseInsensitiveAndCanonicalizes) {
  Fixture f;
  f.headers = HeaderFilter::from({"authorization"});
  std::string h = f.head();
  EXPECT_NE(h.find("Authorization: Bearer t\r\n"), std::string::npos) << h;
  EXPECT_EQ(h.find("Content-Type"), std::string::npos) << "Content-Type only by default";
}

TEST(Forward, ForwardedNamesAreCanonicalLikeGo) {
  // textproto.CanonicalMIMEHeaderKey: first letter and letters after '-' upper case, the rest lower.
  Fixture f;
  f.headers = HeaderFilter::from({"*"});
  f.request.set("x-rEQUEST-iD", "r1");
  f.request.set("X-2nd-hop", "v");
  std::string h = f.head();
  EXPECT_NE(h.find("\r\nX-Request-Id: r1\r\n"), std::string::npos) << h;
  EXPECT_NE(h.find("\r\nX-2nd-Hop: v\r\n"), std::string::npos) << h;
}

TEST(Forward, WildcardNeverForwardsHopByHop) {
  Fixture f;
  f.headers = HeaderFilter::from({"*"});
  f.request.set(http::field::user_agent, "curl/8");
  f.request.set("TE", "trailers");
  f.request.set("Upgrade", "h2c");
  f.request.set("Proxy-Authorization", "x");
  std::string h = f.head();
  EXPECT_NE(h.find("Authorization: Bearer t\r\n"), std::string::npos) << h;
  EXPECT_NE(h.find("User-Agent: curl/8\r\n"), std::string::npos) << h;
  EXPECT_NE(h.find("X-Forwarded-Via: KrakenD Version 2.13.8\r\n"), std::string::npos) << h;
  for (const char* hop : {"Connection:", "Te:", "Upgrade:", "Proxy-Authorization:", "X-Hop:"})
    EXPECT_EQ(h.find(std::string("\r\n") + hop), std::string::npos) << hop << " leaked: " << h;
}

TEST(Forward, AcceptEncodingOfTheClientOnlyReachesPassThroughBackends) {
  Fixture f;
  f.headers = HeaderFilter::from({"*"});
  f.request.set(http::field::accept_encoding, "gzip");
  f.request.set(http::field::accept_encoding, "br");
  // A decoding backend is asked for gzip (which the gateway undoes), never for the client's codings.
  std::string h = f.head();
  EXPECT_NE(h.find("\r\nAccept-Encoding: gzip\r\n"), std::string::npos) << h;
  EXPECT_EQ(h.find("br"), std::string::npos) << h;
  f.backend.decodes_body = false;  // no-op: the client's, as it is, and the answer relayed as it comes
  bool asked_for_gzip = true;
  h = f.head("10.0.0.1", &asked_for_gzip);
  EXPECT_NE(h.find("Accept-Encoding: br\r\n"), std::string::npos) << h;
  EXPECT_EQ(h.find("gzip"), std::string::npos) << h;
  EXPECT_FALSE(asked_for_gzip);
  // Without the client's, Go's transport asks for gzip (and undoes it), whatever the encoding.
  f.headers = HeaderFilter::from({});
  h = f.head("10.0.0.1", &asked_for_gzip);
  EXPECT_NE(h.find("\r\nAccept-Encoding: gzip\r\n"), std::string::npos) << h;
  EXPECT_TRUE(asked_for_gzip);
}

TEST(Forward, BackendFilterStripsEvenKrakenDHeaders) {
  Fixture f;
  f.headers = HeaderFilter::from({"*"});
  f.backend.backend_headers = HeaderFilter::from({"Authorization"});
  std::string h = f.head();
  EXPECT_NE(h.find("Authorization: Bearer t\r\n"), std::string::npos) << h;
  EXPECT_EQ(h.find("X-Forwarded-For"), std::string::npos) << h;
  EXPECT_EQ(h.find("User-Agent"), std::string::npos) << h;
}

TEST(Forward, QueryStringsAreAllowListedSortedAndEncoded) {
  EXPECT_EQ(forwarded_query("b=2&a=1&a=0&c=%20x", QueryFilter::from({"a", "c"}), {}), "a=1&a=0&c=+x");
  EXPECT_EQ(forwarded_query("b=2&a=1", QueryFilter::from({}), {}), "");
  EXPECT_EQ(forwarded_query("b=2&A=1", QueryFilter::from({"*"}), QueryFilter::from({"b"})), "b=2");
  EXPECT_EQ(forwarded_query("z=%zz&y=1", QueryFilter::from({"*"}), {}), "y=1") << "bad escapes are dropped";
  EXPECT_EQ(forwarded_query("a=1&b=2;c&d=%3B", QueryFilter::from({"*"}), {}), "a=1&d=%3B")
      << "pairs with a raw ';' are dropped, like Go's url.ParseQuery";
  EXPECT_EQ(forwarded_query("a=1;b=2", QueryFilter::from({"*"}), {}), "");
  Fixture f;
  f.query = QueryFilter::from({"a"});
  EXPECT_NE(f.head().find("GET /u/42?fixed=1&a=1&a=0 HTTP/1.1"), std::string::npos) << f.head();
}

// Go's transport framing of the request lura builds: a length only when lura knows it.
TEST(Forward, BodyFramingIsKrakendsFraming) {
  Fixture f;
  f.backend.method = "POST";
  EXPECT_NE(f.head().find("Content-Length: 0\r\n"), std::string::npos);  // no body: a known 0
  f.backend.method = "DELETE";
  EXPECT_NE(f.head().find("Content-Length: 0\r\n"), std::string::npos);
  f.backend.method = "GET";
  EXPECT_EQ(f.head().find("Content-Length"), std::string::npos);
  f.backend.method = "POST";
  f.request.body() = "hello";
  f.request.set(http::field::content_length, "5");
  EXPECT_NE(f.head().find("Transfer-Encoding: chunked\r\n"), std::string::npos) << "length not forwarded";
  EXPECT_EQ(f.head().find("Content-Length"), std::string::npos);
  f.headers = HeaderFilter::from({"Content-Type", "Content-Length"});
  EXPECT_NE(f.head().find("Content-Length: 5\r\n"), std::string::npos) << "forwarded: the length is known";
  EXPECT_EQ(f.head().find("Transfer-Encoding"), std::string::npos);
  f.headers = HeaderFilter::from({"Content-Type"});
  f.request.body().clear();
  f.request.erase(http::field::content_length);
  f.request.set(http::field::transfer_encoding, "chunked");  // an empty chunked body: length unknown
  EXPECT_NE(f.head().find("Transfer-Encoding: chunked\r\n"), std::string::npos);
  f.backend.method = "GET";
  EXPECT_EQ(f.head().find("Transfer-Encoding"), std::string::npos) << "Go probes and drops an empty body";
}

TEST(Forward, ParamValuesAreEscapedForThePath) {
  Fixture f;
  f.match.params[0] = {"id", "a b\"c"};
  EXPECT_NE(f.head().find("GET /u/a%20b%22c?fixed=1 "), std::string::npos) << f.head();
}

TEST(Forward, ClientIpLikeGin) {
  Fixture f;
  EXPECT_EQ(client_ip(f.request, "192.0.2.1"), "192.0.2.1");
  f.request.set("X-Forwarded-For", "203.0.113.9, 10.0.0.2");
  EXPECT_EQ(client_ip(f.request, "192.0.2.1"), "203.0.113.9");
  f.request.set("X-Forwarded-For", "garbage, 10.0.0.2");
  f.request.set("X-Real-IP", "198.51.100.7");
  EXPECT_EQ(client_ip(f.request, "192.0.2.1"), "198.51.100.7") << "an invalid entry voids the header";
}

TEST(Forward, UrlTemplateNormalizedForMetrics) {
  std::vector<std::string> params{"id", "x"};
  EXPECT_EQ(UrlTemplate::compile("/a/{id}/{x}?q={id}", params).normalized, "/a/:id/:x");
  EXPECT_TRUE(UrlTemplate::compile("/a?q=1", params).has_query);
}

}  // namespace
}  // namespace gw::proxy

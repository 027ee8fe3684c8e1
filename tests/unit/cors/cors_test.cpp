#include "cors/cors.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>

namespace gw::cors {
namespace {

using namespace std::chrono_literals;
using Headers = std::map<std::string, std::string>;

constexpr const char* kVaryPre = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";
constexpr const char* kVaryPrePn =
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, "
    "Access-Control-Request-Private-Network";

Headers headers_of(const Outcome& out) {
  Headers h;
  for (const auto& [name, value] : out.headers) {
    EXPECT_EQ(h.count(name), 0u) << "duplicate " << name;
    h[name] = value;
  }
  return h;
}

RequestView preflight(std::string_view origin, std::string_view method, std::string_view headers = "") {
  RequestView r;
  r.method = "OPTIONS";
  r.has_origin = true;
  r.origin = origin;
  r.request_method = method;
  r.request_headers = headers;
  return r;
}

RequestView actual(std::string_view method, std::string_view origin) {
  RequestView r;
  r.method = method;
  r.has_origin = true;
  r.origin = origin;
  return r;
}

// KrakenD CE tests/fixtures/krakend.json, service extra_config "security/cors".
config::Cors ce_options() {
  config::Cors c;
  c.allow_origins = {"*"};
  c.allow_methods = {"POST", "GET"};
  c.allow_headers = {"Origin", "Authorization", "Content-Type"};
  c.expose_headers = {"Content-Length"};
  c.max_age = 12h;
  return c;
}

config::Cors origins(std::vector<std::string> list) {
  config::Cors c;
  c.allow_origins = std::move(list);
  return c;
}

// ---------------------------------------------------------------- KrakenD CE cors_1 .. cors_5

TEST(CeSpecs, Cors1PreflightAllowed) {
  Policy p(ce_options());
  auto out = p.evaluate(preflight("http://foo.example", "GET", "content-type,origin"));
  EXPECT_TRUE(out.answer_now);
  EXPECT_EQ(out.status, 204u);
  EXPECT_EQ(headers_of(out), (Headers{{"Access-Control-Allow-Origin", "*"},
                                      {"Access-Control-Allow-Methods", "GET"},
                                      {"Access-Control-Allow-Headers", "content-type,origin"},
                                      {"Access-Control-Max-Age", "43200"},
                                      {"Vary", kVaryPre}}));
  EXPECT_EQ(out.debug, "");
}

TEST(CeSpecs, Cors2MethodNotAllowedStill204WithoutCorsHeaders) {
  Policy p(ce_options());
  auto out = p.evaluate(preflight("http://foo.example.tld", "PUT"));
  EXPECT_TRUE(out.answer_now);
  EXPECT_EQ(out.status, 204u);
  EXPECT_EQ(headers_of(out), (Headers{{"Vary", kVaryPre}}));
}

TEST(CeSpecs, Cors3HeaderNotAllowed) {
  Policy p(ce_options());
  auto out = p.evaluate(preflight("http://foo.example", "POST", "X-PINGOTHER"));
  EXPECT_TRUE(out.answer_now);
  EXPECT_EQ(out.status, 204u);
  EXPECT_EQ(headers_of(out), (Headers{{"Vary", kVaryPre}}));
}

TEST(CeSpecs, Cors4AnyOrigin) {
  Policy p(ce_options());
  auto h = headers_of(p.evaluate(preflight("http://foo.example.tld", "GET", "content-type,origin")));
  EXPECT_EQ(h["Access-Control-Allow-Origin"], "*");
  EXPECT_EQ(h["Access-Control-Allow-Methods"], "GET");
  EXPECT_EQ(h["Access-Control-Allow-Headers"], "content-type,origin");
}

TEST(CeSpecs, Cors5ActualRequest) {
  Policy p(ce_options());
  auto out = p.evaluate(actual("GET", "http://foo.example.tld"));
  EXPECT_FALSE(out.answer_now);
  EXPECT_EQ(headers_of(out), (Headers{{"Access-Control-Allow-Origin", "*"},
                                      {"Access-Control-Expose-Headers", "Content-Length"},
                                      {"Vary", "Origin"}}));
}

// ---------------------------------------------------------------- defaults (krakend-cors + rs/cors)

TEST(Defaults, EmptyOptions) {
  Policy p(config::Cors{});
  EXPECT_TRUE(p.allows_any_origin());
  EXPECT_TRUE(p.allows_any_header());  // krakend-cors: [] -> ["*"], not rs/cors's list
  EXPECT_EQ(p.allowed_methods(), (std::vector<std::string>{"GET", "POST", "HEAD"}));
  EXPECT_EQ(p.options_success_status(), 204u);
  EXPECT_EQ(p.max_age_header(), "");
  config::Cors zero;
  zero.options_success_status = 0;
  EXPECT_EQ(Policy(zero).options_success_status(), 204u);
}

TEST(Defaults, NoOriginActualGetsVaryOnly) {
  Policy p(config::Cors{});
  RequestView r;
  r.method = "GET";
  auto out = p.evaluate(r);
  EXPECT_FALSE(out.answer_now);
  EXPECT_EQ(headers_of(out), (Headers{{"Vary", "Origin"}}));
  r.has_origin = true;  // an empty Origin is no Origin (Go's Header.Get)
  EXPECT_EQ(headers_of(p.evaluate(r)), (Headers{{"Vary", "Origin"}}));
}

TEST(Defaults, EmptyHeadersListAllowsAnyRequestedHeader) {
  Policy p(config::Cors{});
  auto h = headers_of(p.evaluate(preflight("http://a.com", "GET", "X-Custom, Zeta ,alpha")));
  EXPECT_EQ(h["Access-Control-Allow-Headers"], "X-Custom, Zeta ,alpha");
}

TEST(Defaults, DefaultMethods) {
  Policy p(config::Cors{});
  EXPECT_EQ(headers_of(p.evaluate(preflight("http://a.com", "HEAD")))["Access-Control-Allow-Methods"],
            "HEAD");
  EXPECT_EQ(headers_of(p.evaluate(preflight("http://a.com", "PUT"))), (Headers{{"Vary", kVaryPre}}));
  // The actual method is checked too: DELETE gets no CORS headers.
  EXPECT_EQ(headers_of(p.evaluate(actual("DELETE", "http://a.com"))), (Headers{{"Vary", "Origin"}}));
}

TEST(Defaults, MaxAgeTruncatesToSeconds) {
  auto max_age = [](config::Duration d) {
    config::Cors c;
    c.max_age = d;
    return Policy(c).max_age_header();
  };
  EXPECT_EQ(max_age(10s), "10");
  EXPECT_EQ(max_age(1500ms), "1");
  EXPECT_EQ(max_age(500ms), "");
  EXPECT_EQ(max_age(-1s), "0");  // rs/cors: negative forces "0"
  EXPECT_EQ(max_age(-1500ms), "0");
  EXPECT_EQ(max_age(-500ms), "");  // truncates to 0 first
}

// ---------------------------------------------------------------- origins

TEST(Origins, ExactIsCaseInsensitiveAndEchoedVerbatim) {
  Policy p(origins({"http://FooBar.com"}));
  auto out = p.evaluate(actual("GET", "http://foobar.COM"));
  EXPECT_EQ(headers_of(out),
            (Headers{{"Access-Control-Allow-Origin", "http://foobar.COM"}, {"Vary", "Origin"}}));
  EXPECT_EQ(headers_of(p.evaluate(actual("GET", "http://barbaz.com"))), (Headers{{"Vary", "Origin"}}));
  EXPECT_EQ(headers_of(p.evaluate(actual("GET", "http://foobar.com/"))), (Headers{{"Vary", "Origin"}}));
}

TEST(Origins, StarAnywhereAllowsAll) {
  Policy p(origins({"http://a.com", "*", "http://*.b.com"}));
  EXPECT_TRUE(p.allows_any_origin());
  EXPECT_EQ(headers_of(p.evaluate(actual("GET", "null")))["Access-Control-Allow-Origin"], "*");
}

TEST(Origins, Wildcards) {
  Policy p(origins({"http://*.bar.com", "https://*.*.com", "HTTPS://API-*"}));
  auto allowed = [&](std::string_view o) {
    return headers_of(p.evaluate(actual("GET", o))).count("Access-Control-Allow-Origin") == 1;
  };
  EXPECT_TRUE(allowed("http://foo.bar.com"));
  EXPECT_TRUE(allowed("http://a.b.FOO.bar.com"));
  EXPECT_TRUE(allowed("http://.bar.com"));  // '*' matches zero characters
  EXPECT_FALSE(allowed("http://bar.com"));
  EXPECT_FALSE(allowed("http://foo.baz.com"));
  EXPECT_FALSE(allowed("https://foo.bar.com"));
  EXPECT_TRUE(allowed("https://x.*.com"));  // only the first '*' is a wildcard
  EXPECT_FALSE(allowed("https://x.y.com"));
  EXPECT_TRUE(allowed("https://api-v2.example.com"));
  EXPECT_TRUE(allowed("https://api-"));
}

TEST(Origins, WildcardPrefixAndSuffixMayNotOverlap) {
  Policy p(origins({"http://a*a.com"}));
  EXPECT_EQ(headers_of(p.evaluate(actual("GET", "http://a.com"))), (Headers{{"Vary", "Origin"}}));
  EXPECT_EQ(headers_of(p.evaluate(actual("GET", "http://aa.com")))["Access-Control-Allow-Origin"],
            "http://aa.com");
}

TEST(Origins, CredentialsWithStarStillSendStar) {
  config::Cors c;
  c.allow_credentials = true;
  Policy p(c);
  EXPECT_EQ(headers_of(p.evaluate(actual("GET", "http://foobar.com"))),
            (Headers{{"Access-Control-Allow-Credentials", "true"},
                     {"Access-Control-Allow-Origin", "*"},
                     {"Vary", "Origin"}}));
}

TEST(Origins, DeniedPreflightAndMissingOrigin) {
  Policy p(origins({"http://foo.com"}));
  auto out = p.evaluate(preflight("http://example.com", "GET"));
  EXPECT_TRUE(out.answer_now);
  EXPECT_EQ(out.status, 204u);
  EXPECT_EQ(headers_of(out), (Headers{{"Vary", kVaryPre}}));
  RequestView r = preflight("", "GET");
  r.has_origin = false;
  out = Policy(config::Cors{}).evaluate(r);
  EXPECT_TRUE(out.answer_now);
  EXPECT_EQ(headers_of(out), (Headers{{"Vary", kVaryPre}}));
}

// ---------------------------------------------------------------- methods

TEST(Methods, CaseSensitiveAndEchoed) {
  config::Cors c = origins({"http://foobar.com"});
  c.allow_methods = {"PUT", "DELETE", "patch"};
  Policy p(c);
  EXPECT_EQ(headers_of(p.evaluate(preflight("http://foobar.com", "PUT"))),
            (Headers{{"Access-Control-Allow-Origin", "http://foobar.com"},
                     {"Access-Control-Allow-Methods", "PUT"},
                     {"Vary", kVaryPre}}));
  EXPECT_EQ(headers_of(p.evaluate(preflight("http://foobar.com", "put"))), (Headers{{"Vary", kVaryPre}}));
  EXPECT_EQ(headers_of(p.evaluate(preflight("http://foobar.com", "PATCH"))), (Headers{{"Vary", kVaryPre}}));
  EXPECT_EQ(headers_of(p.evaluate(preflight("http://foobar.com", "patch")))["Access-Control-Allow-Methods"],
            "patch");
  // OPTIONS is always allowed.
  EXPECT_EQ(headers_of(p.evaluate(preflight("http://foobar.com", "OPTIONS")))["Access-Control-Allow-Methods"],
            "OPTIONS");
}

TEST(Methods, PreflightNeedsExactOptionsAndARequestMethod) {
  Policy p(origins({"http://foobar.com"}));
  // OPTIONS without Access-Control-Request-Method is an actual request (reaches the endpoint).
  RequestView r = actual("OPTIONS", "http://foobar.com");
  auto out = p.evaluate(r);
  EXPECT_FALSE(out.answer_now);
  EXPECT_EQ(headers_of(out),
            (Headers{{"Access-Control-Allow-Origin", "http://foobar.com"}, {"Vary", "Origin"}}));
  // "options" is not OPTIONS: an actual request with a method outside GET/POST/HEAD.
  r = preflight("http://foobar.com", "GET");
  r.method = "options";
  out = p.evaluate(r);
  EXPECT_FALSE(out.answer_now);
  EXPECT_EQ(headers_of(out), (Headers{{"Vary", "Origin"}}));
}

// ---------------------------------------------------------------- request headers

config::Cors with_headers(std::vector<std::string> list) {
  config::Cors c = origins({"http://foobar.com"});
  c.allow_headers = std::move(list);
  return c;
}

bool accepts(const Policy& p, std::string_view requested) {
  auto h = headers_of(p.evaluate(preflight("http://foobar.com", "GET", requested)));
  return h.count("Access-Control-Allow-Methods") == 1;
}

TEST(RequestHeaders, LowerCaseSortedUniqueOnly) {
  Policy p(with_headers({"X-Header-1", "x-header-2", "X-HEADER-3"}));
  EXPECT_TRUE(accepts(p, "x-header-1,x-header-2"));
  EXPECT_TRUE(accepts(p, "x-header-1,x-header-3"));
  EXPECT_TRUE(accepts(p, "x-header-3"));
  EXPECT_FALSE(accepts(p, "x-header-1,x-header-4"));
  EXPECT_FALSE(accepts(p, "X-Header-1"));             // requests must be lower case
  EXPECT_FALSE(accepts(p, "x-header-2,x-header-1"));  // and sorted
  EXPECT_FALSE(accepts(p, "x-header-1,x-header-1"));  // and unique
  EXPECT_FALSE(accepts(p, "x-header-1 x-header-2"));  // only commas separate
  EXPECT_TRUE(accepts(p, ""));                        // none requested
  auto h = headers_of(p.evaluate(preflight("http://foobar.com", "GET", "x-header-1,x-header-2")));
  EXPECT_EQ(h["Access-Control-Allow-Headers"], "x-header-1,x-header-2");
}

TEST(RequestHeaders, OwsAndEmptyElements) {
  Policy p(with_headers({"Content-Type", "Authorization"}));
  // rs/cors "MultipleACRHHeadersWithOWSAndEmptyElements", the three lines joined with ",".
  auto h = headers_of(p.evaluate(preflight("http://foobar.com", "GET", "authorization\t, , content-type")));
  EXPECT_EQ(h["Access-Control-Allow-Headers"], "authorization\t, , content-type");  // echoed verbatim
  EXPECT_TRUE(accepts(p, "authorization,content-type"));                            // "MultipleACRHHeaders"
  EXPECT_TRUE(accepts(p, " authorization , content-type "));
  EXPECT_TRUE(accepts(p, "authorization,\tcontent-type"));
  EXPECT_FALSE(accepts(p, "authorization,  content-type"));  // at most one OWS byte per side
  EXPECT_FALSE(accepts(p, "authorization  ,content-type"));
  EXPECT_TRUE(accepts(p, "authorization,  ,content-type"));  // two blanks alone: an empty element
  EXPECT_FALSE(accepts(p, "authorization,   ,content-type"));
  EXPECT_TRUE(accepts(p, ",authorization,,content-type,"));
  EXPECT_TRUE(accepts(p, std::string(16, ',') + "authorization"));   // 16 empties
  EXPECT_FALSE(accepts(p, std::string(17, ',') + "authorization"));  // 17 empties
  EXPECT_TRUE(accepts(p, std::string(15, ',')));                     // 16 empties
  EXPECT_FALSE(accepts(p, std::string(16, ',')));                    // 17 empties
}

TEST(RequestHeaders, DuplicatesInConfigAndLongNames) {
  Policy p(with_headers({"B", "a", "b", "A"}));
  EXPECT_FALSE(p.allows_any_header());
  EXPECT_TRUE(accepts(p, "a,b"));
  EXPECT_FALSE(accepts(p, "a,b,b"));
  EXPECT_FALSE(accepts(p, std::string(500, 'a')));
  EXPECT_FALSE(accepts(p, std::string(500, 'a') + ",b"));
}

TEST(RequestHeaders, StarAllowsAnythingAndEchoes) {
  Policy p(with_headers({"X-Foo", "*"}));
  EXPECT_TRUE(p.allows_any_header());
  auto h = headers_of(p.evaluate(preflight("http://foobar.com", "GET", "X-Header-2,x-header-1,,")));
  EXPECT_EQ(h["Access-Control-Allow-Headers"], "X-Header-2,x-header-1,,");
}

// ---------------------------------------------------------------- other headers and options

TEST(Options, ExposeHeadersAreCanonicalAndOnlyOnActualRequests) {
  config::Cors c = origins({"http://foobar.com"});
  c.expose_headers = {"X-Header-1", "x-header-2", "content-LENGTH", "x bad"};
  Policy p(c);
  EXPECT_EQ(headers_of(p.evaluate(actual("GET", "http://foobar.com")))["Access-Control-Expose-Headers"],
            "X-Header-1, X-Header-2, Content-Length, x bad");
  EXPECT_EQ(
      headers_of(p.evaluate(preflight("http://foobar.com", "GET"))).count("Access-Control-Expose-Headers"),
      0u);
}

TEST(Options, CredentialsOnPreflight) {
  config::Cors c = origins({"http://foobar.com"});
  c.allow_credentials = true;
  Policy p(c);
  EXPECT_EQ(headers_of(p.evaluate(preflight("http://foobar.com", "GET"))),
            (Headers{{"Access-Control-Allow-Credentials", "true"},
                     {"Access-Control-Allow-Origin", "http://foobar.com"},
                     {"Access-Control-Allow-Methods", "GET"},
                     {"Vary", kVaryPre}}));
}

TEST(Options, PrivateNetwork) {
  config::Cors c = origins({"http://foobar.com"});
  c.allow_private_network = true;
  Policy p(c);
  RequestView r = preflight("http://foobar.com", "GET");
  r.request_private_network = true;
  EXPECT_EQ(headers_of(p.evaluate(r)), (Headers{{"Access-Control-Allow-Origin", "http://foobar.com"},
                                                {"Access-Control-Allow-Methods", "GET"},
                                                {"Access-Control-Allow-Private-Network", "true"},
                                                {"Vary", kVaryPrePn}}));
  r.request_private_network = false;
  EXPECT_EQ(headers_of(p.evaluate(r)), (Headers{{"Access-Control-Allow-Origin", "http://foobar.com"},
                                                {"Access-Control-Allow-Methods", "GET"},
                                                {"Vary", kVaryPrePn}}));
  r.origin = "http://other.com";  // denied preflights carry the longer Vary too
  EXPECT_EQ(headers_of(p.evaluate(r)), (Headers{{"Vary", kVaryPrePn}}));
  // Actual requests never get the Private Network header.
  EXPECT_EQ(headers_of(p.evaluate(actual("GET", "http://foobar.com")))
                .count("Access-Control-Allow-Private-Network"),
            0u);
  // Not configured: the request flag is ignored.
  Policy off(origins({"http://foobar.com"}));
  r = preflight("http://foobar.com", "GET");
  r.request_private_network = true;
  EXPECT_EQ(headers_of(off.evaluate(r)), (Headers{{"Access-Control-Allow-Origin", "http://foobar.com"},
                                                  {"Access-Control-Allow-Methods", "GET"},
                                                  {"Vary", kVaryPre}}));
}

TEST(Options, Passthrough) {
  config::Cors c;
  c.options_passthrough = true;
  Policy p(c);
  auto out = p.evaluate(preflight("http://foobar.com", "GET"));
  EXPECT_FALSE(out.answer_now);
  EXPECT_EQ(out.status, 0u);
  EXPECT_EQ(headers_of(out), (Headers{{"Access-Control-Allow-Origin", "*"},
                                      {"Access-Control-Allow-Methods", "GET"},
                                      {"Vary", kVaryPre}}));
  out = p.evaluate(preflight("http://foobar.com", "PUT"));  // denied: Vary, endpoint still called
  EXPECT_FALSE(out.answer_now);
  EXPECT_EQ(headers_of(out), (Headers{{"Vary", kVaryPre}}));
}

TEST(Options, SuccessStatusAppliesToDeniedPreflightsToo) {
  config::Cors c = origins({"http://foobar.com"});
  c.options_success_status = 200;
  Policy p(c);
  EXPECT_EQ(p.evaluate(preflight("http://foobar.com", "GET")).status, 200u);
  auto out = p.evaluate(preflight("http://evil.com", "GET"));
  EXPECT_TRUE(out.answer_now);
  EXPECT_EQ(out.status, 200u);
}

TEST(Options, HeadersComeSortedByName) {
  config::Cors c;
  c.allow_credentials = true;
  c.allow_private_network = true;
  c.max_age = 1s;
  Policy p(c);
  RequestView r = preflight("http://a.com", "GET", "x");
  r.request_private_network = true;
  auto out = p.evaluate(r);
  ASSERT_EQ(out.headers.size(), 7u);
  for (std::size_t i = 1; i < out.headers.size(); ++i)
    EXPECT_LT(out.headers[i - 1].name, out.headers[i].name);
}

TEST(Debug, RsCorsLogLines) {
  config::Cors c = ce_options();
  c.debug = true;
  Policy p(c);
  EXPECT_EQ(p.evaluate(preflight("http://foo.example", "GET")).debug,
            "Handler: Preflight request\n"
            "  Preflight response headers: map[Access-Control-Allow-Methods:[GET] "
            "Access-Control-Allow-Origin:[*] Access-Control-Max-Age:[43200] "
            "Vary:[Origin, Access-Control-Request-Method, Access-Control-Request-Headers]]");
  EXPECT_EQ(p.evaluate(preflight("http://foo.example", "POST", "X-PINGOTHER")).debug,
            "Handler: Preflight request\n  Preflight aborted: headers '[X-PINGOTHER]' not allowed");
  EXPECT_EQ(p.evaluate(preflight("http://foo.example", "PUT")).debug,
            "Handler: Preflight request\n  Preflight aborted: method 'PUT' not allowed");
  RequestView r;
  r.method = "GET";
  EXPECT_EQ(p.evaluate(r).debug,
            "Handler: Actual request\n  Actual request no headers added: missing origin");
  EXPECT_EQ(p.evaluate(actual("DELETE", "http://x")).debug,
            "Handler: Actual request\n  Actual request no headers added: method 'DELETE' not allowed");
  EXPECT_EQ(p.evaluate(actual("GET", "http://x")).debug,
            "Handler: Actual request\n  Actual response added headers: map[Access-Control-Allow-Origin:[*] "
            "Access-Control-Expose-Headers:[Content-Length] Vary:[Origin]]");
  Policy q(origins({"http://a.com"}));
  EXPECT_EQ(q.evaluate(actual("GET", "http://x")).debug, "");
  c = origins({"http://a.com"});
  c.debug = true;
  EXPECT_EQ(Policy(c).evaluate(preflight("http://x", "GET")).debug,
            "Handler: Preflight request\n  Preflight aborted: origin 'http://x' not allowed");
}

TEST(CanonicalHeaderKey, GoRules) {
  EXPECT_EQ(canonical_header_key("x-foo-bar"), "X-Foo-Bar");
  EXPECT_EQ(canonical_header_key("CONTENT-LENGTH"), "Content-Length");
  EXPECT_EQ(canonical_header_key("x--a"), "X--A");
  EXPECT_EQ(canonical_header_key("1abc-2DEF"), "1abc-2def");
  EXPECT_EQ(canonical_header_key("x foo"), "x foo");
  EXPECT_EQ(canonical_header_key("x:foo"), "x:foo");
  EXPECT_EQ(canonical_header_key(""), "");
}

}  // namespace
}  // namespace gw::cors

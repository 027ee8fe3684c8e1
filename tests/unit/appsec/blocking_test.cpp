// block_response: docs/datadog-appsec.md section 9.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "appsec/appsec.h"

namespace gw::appsec {
namespace {

constexpr std::string_view kJson =
    R"({"errors":[{"title":"You've been blocked","detail":"Sorry, you cannot access this page. )"
    R"(Please contact the customer service team. Security provided by Datadog."}]})";

Action block(unsigned status = 403, Action::Type type = Action::Type::automatic) {
  Action a;
  a.kind = Action::Kind::block;
  a.status = status;
  a.type = type;
  return a;
}

// FNV-1a 64: pins the default page's exact bytes without a second copy of it here.
std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

bool negotiates_html(std::string_view accept) {
  const BlockResponse r = block_response(block(), accept, std::nullopt, std::nullopt);
  return r.content_type == "text/html;charset=utf-8";
}

TEST(Blocking, DefaultJsonIsByteExact) {
  const BlockResponse r = block_response(block(), "", std::nullopt, std::nullopt);
  EXPECT_EQ(r.status, 403u);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, kJson);
  EXPECT_TRUE(r.location.empty());
}

TEST(Blocking, DefaultHtmlIsDatadogsPage) {
  const BlockResponse r = block_response(block(), "text/html", std::nullopt, std::nullopt);
  EXPECT_EQ(r.content_type, "text/html;charset=utf-8");
  const std::string& b = r.body;
  EXPECT_EQ(b.size(), 1460u);                  // the minified page, no trailing newline
  EXPECT_EQ(fnv1a(b), 0x04d340c0cc1f1ec1ULL);  // nginx-datadog kDefaultTemplateHtml @b0d4dbc
  EXPECT_EQ(
      b.rfind("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"UTF-8\"><meta name=\"viewport\" "
              "content=\"width=device-width,initial-scale=1\"><title>You've been blocked</title><style>",
              0),
      0u);
  EXPECT_NE(
      b.find("footer p{font-size:16px}</style></head><body><main><p>Sorry, you cannot access this page. "
             "Please contact the customer service team.</p></main><footer><p>Security provided by <a "
             "href=\"https://www.datadoghq.com/product/security-platform/"
             "application-security-monitoring/\" target=\"_blank\">Datadog</a></p></footer></body></html>"),
      std::string::npos);
  EXPECT_EQ(b.find('\n'), std::string::npos);
  EXPECT_EQ(b.find("  "), std::string::npos);
}

TEST(Blocking, AcceptNegotiation) {
  struct Case {
    std::string_view accept;
    bool html;
  };
  const std::vector<Case> cases = {
      {"", false},  // no Accept: JSON
      {"text/html", true},
      {"application/json", false},
      {"*/*", false},  // one shared entry: full tie, JSON
      {"text/*", true},
      {"application/*", false},
      {"image/png", false},  // nothing acceptable: JSON
      {"text/plain", false},
      // Browsers.
      {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true},
      {"application/json, text/plain, */*", false},
      // Specificity: the most specific range decides the q-value, whatever its value.
      {"text/html;q=0.1, */*", false},
      {"*/*, text/html;q=0.1", false},
      {"application/json;q=0.1, */*", true},
      {"text/*;q=0.5, text/html;q=0.4, application/json;q=0.45", false},
      {"text/*;q=0.5, application/*;q=0.4", true},
      {"application/*;q=0.5, application/json;q=0.2, text/*;q=0.3", true},
      // q-values compare; equal q: the one listed first.
      {"text/html;q=0.8, application/json;q=0.9", false},
      {"application/json;q=0.8, text/html;q=0.9", true},
      {"text/html, application/json", true},
      {"application/json, text/html", false},
      {"text/html;q=0.5, application/json;q=0.500", true},
      {"text/html;q=0.5, application/json;q=0.5001", true},  // digits past the third ignored
      {"application/json;q=0.7, text/*;q=0.7", false},
      {"*/*;q=0.2, text/html;q=0.2, application/json;q=0.2", true},
      // q=0: not acceptable.
      {"text/html;q=0", false},
      {"application/json;q=0, text/html;q=0.001", true},
      {"text/html;q=0, application/json;q=0", false},
      {"text/html;q=0.000, image/png", false},
      // Malformed or out-of-range q is ignored (q = 1).
      {"application/json;q=0.5, text/html;q=abc", true},
      {"application/json;q=0.5, text/html;q=", true},
      {"application/json;q=0.5, text/html;q=1.5", true},
      {"application/json;q=0.5, text/html;q=-1", true},
      {"application/json;q=0.5, text/html;q=0x1", true},
      {"application/json;q=0.5, text/html;q=1e0", true},
      {"application/json;q=0.5, text/html;q=nan", true},
      {"application/json;q=0.5, text/html;q=inf", true},
      {"application/json;q=0.5, text/html;q=99999999999999999999", true},
      {"application/json;q=0.5, text/html;q=.", true},
      {"text/html;q=0.5, application/json;q=1.000", false},
      // Parameters, spacing and case.
      {"text/html; charset=utf-8; q=0.3, application/json; q=0.2", true},
      {"text/html;level=1;q=0.3, application/json;q=0.4", false},
      {"text/html;Q=0.1, application/json", false},
      {"  TEXT/HTML  ;  q=0.9 ,application/JSON;q=0.8", true},
      {"text/html;qq=0.1, application/json;q=0.9", true},  // "qq" is not q: text/html stays at 1
      {"text / html", true},
      // Garbage.
      {",,,;;;", false},
      {"text/html/extra", false},
      {"/", false},
      {";q=1", false},
      {"text/", false},
      {"\x01\x02\xff", false},
  };
  for (const Case& c : cases) EXPECT_EQ(negotiates_html(c.accept), c.html) << "Accept: " << c.accept;
}

TEST(Blocking, HostileAcceptIsLinear) {
  std::string accept;
  for (int i = 0; i < 1000; ++i) accept += "application/xml;q=abc;q=0.1;x=y, ";
  EXPECT_FALSE(negotiates_html(accept));
  EXPECT_TRUE(negotiates_html(accept + "text/html"));
  EXPECT_FALSE(negotiates_html(std::string(100000, ',')));
  EXPECT_FALSE(negotiates_html(std::string(100000, ';')));
}

TEST(Blocking, ExplicitTypesAndStatus) {
  BlockResponse r =
      block_response(block(418, Action::Type::html), "application/json", std::nullopt, std::nullopt);
  EXPECT_EQ(r.status, 418u);
  EXPECT_EQ(r.content_type, "text/html;charset=utf-8");
  r = block_response(block(401, Action::Type::json), "text/html", std::nullopt, std::nullopt);
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, kJson);
  r = block_response(block(403, Action::Type::none), "text/html", std::nullopt, std::nullopt);
  EXPECT_EQ(r.status, 403u);
  EXPECT_TRUE(r.content_type.empty());
  EXPECT_TRUE(r.body.empty());
  // A status that cannot be sent falls back to 403.
  for (unsigned bad : {0u, 99u, 600u, 99999u}) {
    EXPECT_EQ(block_response(block(bad), "", std::nullopt, std::nullopt).status, 403u) << bad;
  }
  EXPECT_EQ(block_response(Action{}, "", std::nullopt, std::nullopt).status, 403u);  // default Action
}

TEST(Blocking, TemplatesReplaceBodiesVerbatim) {
  const std::optional<std::string> json = std::string("{\"blocked\": true}\n\0x", 20);
  const std::optional<std::string> html = std::string("<p>no</p>\r\n");
  EXPECT_EQ(block_response(block(), "", json, html).body, *json);
  EXPECT_EQ(block_response(block(), "text/html", json, html).body, *html);
  EXPECT_EQ(block_response(block(), "text/html", json, std::nullopt).body.size(), 1460u);
  EXPECT_EQ(block_response(block(), "", std::nullopt, html).body, kJson);
  const std::optional<std::string> empty = std::string();
  const BlockResponse r = block_response(block(), "", empty, html);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_TRUE(r.body.empty());
}

TEST(Blocking, Redirects) {
  struct Case {
    unsigned status, want;
  };
  for (const Case& c : std::vector<Case>{
           {301, 301}, {302, 302}, {303, 303}, {307, 307}, {308, 303}, {403, 303}, {200, 303}, {0, 303}}) {
    Action a;
    a.kind = Action::Kind::redirect;
    a.status = c.status;
    a.location = "https://example.com/blocked?x=1";
    const BlockResponse r = block_response(a, "text/html", std::nullopt, std::nullopt);
    EXPECT_EQ(r.status, c.want) << c.status;
    EXPECT_EQ(r.location, a.location);
    EXPECT_TRUE(r.content_type.empty());
    EXPECT_TRUE(r.body.empty());
  }
  // No location: the default block.
  Action a;
  a.kind = Action::Kind::redirect;
  a.status = 302;
  const BlockResponse r = block_response(a, "text/html", std::nullopt, std::nullopt);
  EXPECT_EQ(r.status, 403u);
  EXPECT_EQ(r.content_type, "text/html;charset=utf-8");
  EXPECT_TRUE(r.location.empty());
}

}  // namespace
}  // namespace gw::appsec

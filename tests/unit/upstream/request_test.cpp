// upstream::Request: a backend request as data, and its HTTP/1.1 head.
#include <gtest/gtest.h>

#include "upstream/upstream.h"

namespace gw::upstream {
namespace {

TEST(Request, Http1HeadHasTheLineHostFieldsAndFraming) {
  Request r("POST", "/a/b?x=1", "backend:8080");
  r.add_canonical("x-y-z", "1");
  r.add_canonical("CONTENT-type", "application/json");
  r.add("X-Forwarded-For", "10.0.0.1");
  r.body = "{}";
  r.framing = Request::Framing::length;
  EXPECT_EQ(http1_head(r),
            "POST /a/b?x=1 HTTP/1.1\r\nHost: backend:8080\r\nX-Y-Z: 1\r\nContent-Type: application/json\r\n"
            "X-Forwarded-For: 10.0.0.1\r\nContent-Length: 2\r\n\r\n");
  r.framing = Request::Framing::chunked;
  EXPECT_NE(http1_head(r).find("Transfer-Encoding: chunked\r\n\r\n"), std::string::npos);
  r.framing = Request::Framing::none;
  EXPECT_EQ(http1_head(r).find("Content-Length"), std::string::npos);
}

TEST(Request, CanonicalNamesAreGos) {
  Request r("GET", "/", "h");
  r.add_canonical("accept-ENCODING", "gzip");
  r.add_canonical("has space", "v");  // Go leaves such a name alone
  EXPECT_EQ(r.field(0).name, "Accept-Encoding");
  EXPECT_EQ(r.field(1).name, "has space");
}

TEST(Request, PropagationLinesBecomeFields) {
  Request r("GET", "/", "h");
  r.add_lines("x-datadog-trace-id: 1\r\ntraceparent: 00-ab-cd-01\r\n");
  ASSERT_EQ(r.field_count(), 2u);
  EXPECT_EQ(r.field(0).name, "x-datadog-trace-id");
  EXPECT_EQ(r.field(1).value, "00-ab-cd-01");
  r.add_lines("garbage without a colon\r\n");  // not a field: nothing of it is kept
  EXPECT_EQ(r.field_count(), 2u);
  EXPECT_EQ(http1_head(r),
            "GET / HTTP/1.1\r\nHost: h\r\nx-datadog-trace-id: 1\r\ntraceparent: 00-ab-cd-01\r\n\r\n");
}

TEST(Request, TargetIsBuiltInPlace) {
  Request r;
  r.set_method("GET");
  std::string& text = r.open_target();
  text += "/users/";
  text += "42";
  r.close_target();
  r.set_authority("h:1");
  EXPECT_EQ(r.method(), "GET");
  EXPECT_EQ(r.target(), "/users/42");
  EXPECT_EQ(r.authority(), "h:1");
}

TEST(Request, ACopyOwnsItsTextAndCanBeRewritten) {
  auto original = std::make_unique<Request>("POST", "/first", "a:1");
  original->add("Referer", "x");
  original->add("X-Keep", "yes");
  Request next = *original;
  original.reset();  // the copy must not point into it
  next.set_line("GET", "/second");
  next.change_authority("b:2");
  next.remove("referer");
  next.add("Referer", "http://a:1/first");
  EXPECT_EQ(http1_head(next),
            "GET /second HTTP/1.1\r\nHost: b:2\r\nX-Keep: yes\r\nReferer: http://a:1/first\r\n\r\n");
}

}  // namespace
}  // namespace gw::upstream

#include "router/router.h"

#include <gtest/gtest.h>

using gw::router::Match;
using gw::router::Router;

namespace {

Router seed_router() {
  Router r;
  r.add("GET", "/api/chat", 1);
  r.add("GET", "/api/chat/{path}", 2);
  r.add("POST", "/api/chat/{path}", 3);
  r.add("GET", "/static", 4);
  r.add("GET", "/users/:id/posts/:post", 5);
  r.add("GET", "/users/me/posts/:post", 6);
  r.add("GET", "/dir/", 7);
  return r;
}

}  // namespace

TEST(Router, StaticAndParamRoutes) {
  Router r = seed_router();
  Match m = r.find("GET", "/api/chat");
  ASSERT_EQ(m.kind, Match::Kind::Found);
  EXPECT_EQ(m.handler, 1);
  m = r.find("GET", "/api/chat/rooms");
  ASSERT_EQ(m.kind, Match::Kind::Found);
  EXPECT_EQ(m.handler, 2);
  EXPECT_EQ(m.param("path"), "rooms");
  m = r.find("POST", "/api/chat/rooms");
  EXPECT_EQ(m.handler, 3);
}

TEST(Router, StaticBeatsParamAndBacktracks) {
  Router r = seed_router();
  Match m = r.find("GET", "/users/me/posts/7");
  EXPECT_EQ(m.handler, 6);
  m = r.find("GET", "/users/42/posts/7");
  ASSERT_EQ(m.kind, Match::Kind::Found);
  EXPECT_EQ(m.handler, 5);
  EXPECT_EQ(m.param("id"), "42");
  EXPECT_EQ(m.param("post"), "7");
}

TEST(Router, DeeperPathIsNotFound) {
  Router r = seed_router();
  EXPECT_EQ(r.find("GET", "/api/chat/x/y").kind, Match::Kind::NotFound);
  EXPECT_EQ(r.find("GET", "/nope").kind, Match::Kind::NotFound);
  EXPECT_EQ(r.find("GET", "/api/chat/").kind, Match::Kind::Redirect);  // to /api/chat
}

TEST(Router, MethodNotAllowedListsMethods) {
  Router r = seed_router();
  Match m = r.find("DELETE", "/api/chat/rooms");
  ASSERT_EQ(m.kind, Match::Kind::MethodNotAllowed);
  EXPECT_EQ(m.allow, "GET, POST");
  Router off({true, true, false});
  off.add("GET", "/a", 1);
  EXPECT_EQ(off.find("POST", "/a").kind, Match::Kind::NotFound);
}

TEST(Router, TrailingSlashRedirects) {
  Router r = seed_router();
  Match m = r.find("GET", "/static/");
  ASSERT_EQ(m.kind, Match::Kind::Redirect);
  EXPECT_EQ(m.redirect_status, 301);
  EXPECT_EQ(m.location, "/static");
  m = r.find("GET", "/dir");
  ASSERT_EQ(m.kind, Match::Kind::Redirect);
  EXPECT_EQ(m.location, "/dir/");
  m = r.find("POST", "/api/chat/rooms/");
  ASSERT_EQ(m.kind, Match::Kind::Redirect);
  EXPECT_EQ(m.redirect_status, 307);
}

TEST(Router, FixedPathRedirectIsCaseInsensitiveAndCleans) {
  Router r = seed_router();
  Match m = r.find("GET", "/StAtic");
  ASSERT_EQ(m.kind, Match::Kind::Redirect);
  EXPECT_EQ(m.location, "/static");
  m = r.find("GET", "/api//chat/../chat/Rooms");
  ASSERT_EQ(m.kind, Match::Kind::Redirect);
  EXPECT_EQ(m.location, "/api/chat/Rooms");  // param values keep their case
  Router off({true, false, true});
  off.add("GET", "/static", 1);
  EXPECT_EQ(off.find("GET", "/STATIC").kind, Match::Kind::NotFound);
}

TEST(Router, ConflictsFailLikeGin) {
  Router r;
  r.add("GET", "/user/{userid}", 1);
  EXPECT_THROW(r.add("GET", "/user/{iduser}/some", 2), gw::router::RouteConflict);
  EXPECT_THROW(r.add("GET", "/user/{userid}", 3), gw::router::RouteConflict);
  EXPECT_NO_THROW(r.add("POST", "/user/{other}", 4));  // one tree per method
  EXPECT_NO_THROW(r.add("GET", "/user/static", 5));
}

TEST(Router, EmptyParamDoesNotMatch) {
  Router r;
  r.add("GET", "/a/{x}", 1);
  EXPECT_NE(r.find("GET", "/a/").kind, Match::Kind::Found);
}

TEST(Router, CleanPath) {
  EXPECT_EQ(gw::router::clean_path("/a//b/./c/.."), "/a/b");
  EXPECT_EQ(gw::router::clean_path("/../.."), "/");
  EXPECT_EQ(gw::router::clean_path("/a/b/"), "/a/b/");
}

TEST(Router, PercentDecode) {
  std::string out;
  EXPECT_TRUE(gw::router::percent_decode("/a%20b%2Fc", out));
  EXPECT_EQ(out, "/a b/c");
  EXPECT_FALSE(gw::router::percent_decode("/a%2", out));
  EXPECT_FALSE(gw::router::percent_decode("/a%zz", out));
}

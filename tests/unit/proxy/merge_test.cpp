// The proxy's merge and status choice as pure functions, with fake backend results.
#include "proxy/merge.h"

#include <gtest/gtest.h>

namespace gw::proxy {
namespace {

json::Value obj(std::string_view text) { return *json::parse(text); }
std::string text(const json::Value& v) {
  std::string out;
  json::encode(v, out);
  return out;
}

BackendResult success(std::string_view body) {
  BackendResult r;
  r.ok = r.complete = true;
  r.data = obj(body);
  return r;
}
BackendResult failure(std::string error, unsigned status = 0, std::string body = "") {
  BackendResult r;
  r.error = std::move(error);
  r.error_status = status;
  r.error_body = std::move(body);
  r.error_content_type = status ? "text/plain" : "";
  return r;
}

TEST(Merge, LaterArrivalsOverwriteCollidingKeys) {
  std::vector<BackendResult> parts{success(R"({"a":1,"b":1})"), success(R"({"b":2,"c":2})")};
  Merged m = merge_results(parts, {1, 0}, 2, {});
  EXPECT_EQ(text(m.data), R"({"a":1,"b":1,"c":2})");  // backend 0 arrived last
  EXPECT_TRUE(m.complete);
  EXPECT_FALSE(m.has_error);
  Answer a = choose_answer(m, 2);
  EXPECT_EQ(a.status, 200u);
  EXPECT_TRUE(a.completed);
}

TEST(Merge, AFailedBackendMakesAPartialResponse) {
  std::vector<BackendResult> parts{success(R"({"a":1})"), failure("invalid status code 500")};
  Merged m = merge_results(parts, {0, 1}, 2, {});
  EXPECT_EQ(text(m.data), R"({"a":1})");
  EXPECT_FALSE(m.complete);
  EXPECT_TRUE(m.has_error);
  Answer a = choose_answer(m, 2);
  EXPECT_EQ(a.status, 200u);
  EXPECT_FALSE(a.completed);
}

TEST(Merge, AMissingArrivalIsIncomplete) {  // the merge deadline passed before backend 1 answered
  std::vector<BackendResult> parts{success(R"({"a":1})"), BackendResult{}};
  Merged m = merge_results(parts, {0}, 2, {});
  EXPECT_FALSE(m.complete);
  EXPECT_FALSE(choose_answer(m, 2).completed);
}

TEST(Merge, ANullBodyIsSkippedAndIncomplete) {
  std::vector<BackendResult> parts{success(R"({"a":1})"), success("null")};
  Merged m = merge_results(parts, {0, 1}, 2, {});
  EXPECT_EQ(text(m.data), R"({"a":1})");
  EXPECT_FALSE(m.complete);
}

TEST(Merge, EveryBackendFailedIs500WithTheErrorsInArrivalOrder) {
  std::vector<BackendResult> parts{failure("first"), failure("second")};
  Merged m = merge_results(parts, {1, 0}, 2, {});
  Answer a = choose_answer(m, 2);
  EXPECT_TRUE(a.is_error);
  EXPECT_EQ(a.status, 500u);
  EXPECT_EQ(a.error_message, "second\nfirst");
}

TEST(Merge, ASingleBackendCarriesItsStatusWithReturnErrorCode) {
  std::vector<BackendResult> parts{failure("invalid status code 418", 418, "teapot")};
  Answer a = choose_answer(merge_results(parts, {0}, 1, {}), 1);
  EXPECT_EQ(a.status, 418u);
  EXPECT_EQ(a.error_message, "teapot");
  EXPECT_EQ(a.error_content_type, "text/plain");
  // With two backends the status is not carried: KrakenD answers 500.
  std::vector<BackendResult> two{failure("x", 418, "teapot"), failure("y")};
  EXPECT_EQ(choose_answer(merge_results(two, {0, 1}, 2, {}), 2).status, 500u);
}

TEST(Merge, ADetailedErrorIsDataButStillAnError) {
  BackendResult detailed = success(R"({"error_b":{"http_status_code":429}})");
  detailed.complete = false;
  detailed.error = "invalid status code 429";
  std::vector<BackendResult> parts{success(R"({"a":1})"), std::move(detailed)};
  Merged m = merge_results(parts, {0, 1}, 2, {});
  EXPECT_TRUE(m.has_error);
  EXPECT_FALSE(m.complete);
  EXPECT_EQ(text(m.data), R"({"a":1,"error_b":{"http_status_code":429}})");
}

TEST(Merge, StaticDataFollowsItsStrategy) {
  response::StaticConfig errored{response::StaticConfig::Strategy::Errored, obj(R"({"fallback":true})")};
  std::vector<BackendResult> failed{failure("down")};
  Merged m = merge_results(failed, {0}, 1, {nullptr, &errored});
  Answer a = choose_answer(m, 1);
  EXPECT_FALSE(a.is_error);  // static data answers instead of the error
  EXPECT_FALSE(a.completed);
  EXPECT_EQ(text(m.data), R"({"fallback":true})");

  std::vector<BackendResult> fine{success(R"({"a":1})")};
  Merged ok = merge_results(fine, {0}, 1, {nullptr, &errored});
  EXPECT_EQ(text(ok.data), R"({"a":1})");  // no error: the errored strategy adds nothing
  EXPECT_TRUE(choose_answer(ok, 1).completed);
}

TEST(Merge, AnEmptyObjectIsNotCompleted) {
  std::vector<BackendResult> parts{success("{}")};
  Answer a = choose_answer(merge_results(parts, {0}, 1, {}), 1);
  EXPECT_EQ(a.status, 200u);
  EXPECT_FALSE(a.completed);
}

}  // namespace
}  // namespace gw::proxy

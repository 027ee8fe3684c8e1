// decode -> shape -> merge -> encode, the JSON path of an aggregated endpoint.
#include <benchmark/benchmark.h>

#include <string>

#include "response/response.h"

namespace {

using gw::response::BackendShaping;

const std::string kUser =
    R"({"id":42,"name":"Elliot Alderson","email":"elliot@allsafe.com","active":true,"score":9.5})";
const std::string kPosts =
    R"({"posts":[{"id":1,"title":"hello"},{"id":2,"title":"world"}],"total":2,"page":1})";
const std::string kMeta =
    R"({"meta":{"region":"eu-west-1","version":"1.4.2","tags":["a","b","c"]},"ok":true})";

std::string big_body() {
  std::string s = R"({"items":[)";
  for (int i = 0; s.size() < 64 * 1024 - 200; ++i) {
    if (i) s += ',';
    s += R"({"id":)" + std::to_string(i) + R"(,"name":"item <)" + std::to_string(i) +
         R"(>","price":12.50,"tags":["x","y"],"nested":{"a":true,"b":null}})";
  }
  s += R"(],"count":1000,"next":null})";
  return s;
}

void BM_ThreeSmallBackends(benchmark::State& state) {
  BackendShaping user, posts, meta;
  user.allow = {"id", "name", "email"};
  posts.group = "feed";
  meta.target = "meta";
  meta.mapping = {{"region", "dc"}};
  std::string err;
  for (auto _ : state) {
    gw::json::Value acc, a, b, c;
    gw::response::decode(kUser, user, a, err);
    gw::response::decode(kPosts, posts, b, err);
    gw::response::decode(kMeta, meta, c, err);
    gw::response::shape(a, user);
    gw::response::shape(b, posts);
    gw::response::shape(c, meta);
    gw::response::merge(acc, std::move(a));
    gw::response::merge(acc, std::move(b));
    gw::response::merge(acc, std::move(c));
    auto r = gw::response::render("json", &acc, "");
    benchmark::DoNotOptimize(r.body.data());
  }
  state.SetBytesProcessed(state.iterations() * int64_t(kUser.size() + kPosts.size() + kMeta.size()));
}
BENCHMARK(BM_ThreeSmallBackends);

void BM_Big64KiB(benchmark::State& state) {
  const std::string body = big_body();
  BackendShaping s;
  s.deny = {"next"};
  std::string err;
  for (auto _ : state) {
    gw::json::Value acc, v;
    gw::response::decode(body, s, v, err);
    gw::response::shape(v, s);
    gw::response::merge(acc, std::move(v));
    auto r = gw::response::render("json", &acc, "");
    benchmark::DoNotOptimize(r.body.data());
  }
  state.SetBytesProcessed(state.iterations() * int64_t(body.size()));
}
BENCHMARK(BM_Big64KiB);

void BM_Parse64KiB(benchmark::State& state) {
  const std::string body = big_body();
  for (auto _ : state) benchmark::DoNotOptimize(gw::json::parse(body));
  state.SetBytesProcessed(state.iterations() * int64_t(body.size()));
}
BENCHMARK(BM_Parse64KiB);

void BM_Encode64KiB(benchmark::State& state) {
  const auto v = gw::json::parse(big_body());
  std::string out;
  for (auto _ : state) {
    out.clear();
    gw::json::encode(*v, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * int64_t(out.size()));
}
BENCHMARK(BM_Encode64KiB);

}  // namespace

BENCHMARK_MAIN();

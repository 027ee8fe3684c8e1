// The WAF engine: loading Datadog's rule format, every operator, events, actions, exclusions, the
// response phase, and the bounds on hostile input.
#include <gtest/gtest.h>

#include <chrono>

#include "appsec/appsec.h"
#include "json/json.h"

namespace gw::appsec {
namespace {

Settings test_settings() {
  Settings s;
  s.enabled = true;
  s.waf_timeout = std::chrono::microseconds(1'000'000);
  return s;
}

std::shared_ptr<const Waf> compile(const std::string& rules, Settings s = test_settings()) {
  return Waf::compile(rules, "test.json", s);
}

std::string ruleset(const std::string& rules, const std::string& extra = "") {
  return R"({"version":"2.2","metadata":{"rules_version":"9.9.9"},"rules":[)" + rules + "]" + extra + "}";
}

std::string rule(const std::string& id, const std::string& conditions, const std::string& more = "") {
  return R"({"id":")" + id + R"(","name":"rule )" + id + R"(","tags":{"type":"t_)" + id +
         R"(","category":"attack_attempt"},"conditions":[)" + conditions + "]" + more + "}";
}

std::string regex_on(const std::string& address, const std::string& regex, const std::string& extra = "") {
  return R"({"operator":"match_regex","parameters":{"inputs":[{"address":")" + address + R"("}],"regex":")" +
         regex + "\"" + extra + "}}";
}

RequestView get(std::string_view target) {
  RequestView r;
  r.method = "GET";
  r.target = target;
  r.peer_ip = "203.0.113.9";
  return r;
}

json::Value first_trigger(const Inspection& in) {
  EXPECT_FALSE(in.triggers.empty());
  auto v = json::parse(in.triggers.at(0));
  EXPECT_TRUE(v.has_value()) << in.triggers.at(0);
  return *v;
}

std::vector<std::string> rule_ids(const Inspection& in) {
  std::vector<std::string> ids;
  for (const auto& t : in.triggers) ids.push_back(json::parse(t)->find("rule")->find("id")->as_string());
  return ids;
}

TEST(Waf, RegexOnQueryReportsDatadogEventShape) {
  auto waf = compile(ruleset(rule("r1", regex_on("server.request.query", "union\\\\s+select"))));
  EXPECT_EQ(waf->info().loaded, 1u);
  EXPECT_EQ(waf->info().rules_version, "9.9.9");
  auto in = waf->inspect_request(get("/a?x=1&q=1%20UNION%20%20select%201"));
  ASSERT_EQ(in.triggers.size(), 1u);
  json::Value t = first_trigger(in);
  EXPECT_EQ(t.find("rule")->find("id")->as_string(), "r1");
  EXPECT_EQ(t.find("rule")->find("tags")->find("type")->as_string(), "t_r1");
  EXPECT_EQ(t.find("rule")->find("tags")->find("category")->as_string(), "attack_attempt");
  const json::Value& m = t.find("rule_matches")->as_array().at(0);
  EXPECT_EQ(m.find("operator")->as_string(), "match_regex");
  EXPECT_EQ(m.find("operator_value")->as_string(), "union\\s+select");
  const json::Value& p = m.find("parameters")->as_array().at(0);
  EXPECT_EQ(p.find("address")->as_string(), "server.request.query");
  EXPECT_EQ(json::encode(*p.find("key_path")), R"(["q"])");
  EXPECT_EQ(p.find("value")->as_string(), "1 UNION  select 1");
  EXPECT_EQ(json::encode(*p.find("highlight")), R"(["UNION  select"])");
  EXPECT_EQ(in.action.kind, Action::Kind::none);
  EXPECT_TRUE(waf->inspect_request(get("/a?q=union")).triggers.empty());
  EXPECT_EQ(in.event_json().rfind(R"({"triggers":[{"rule":)", 0), 0u);
}

TEST(Waf, RepeatedQueryKeysAreArraysWithIndexInKeyPath) {
  auto waf = compile(ruleset(rule("r1", regex_on("server.request.query", "evil"))));
  auto in = waf->inspect_request(get("/?a=ok&a=evil"));
  json::Value p = first_trigger(in).find("rule_matches")->as_array()[0].find("parameters")->as_array()[0];
  EXPECT_EQ(json::encode(*p.find("key_path")), R"(["a",1])");
}

TEST(Waf, CaseSensitivityAndMinLength) {
  auto waf = compile(
      ruleset(rule("cs", regex_on("server.request.query", "Evil", R"(,"options":{"case_sensitive":true})")) +
              "," + rule("ml", regex_on("server.request.query", "x", R"(,"options":{"min_length":5})"))));
  EXPECT_EQ(rule_ids(waf->inspect_request(get("/?a=evil"))), std::vector<std::string>{});
  EXPECT_EQ(rule_ids(waf->inspect_request(get("/?a=Evil"))), std::vector<std::string>{"cs"});
  EXPECT_EQ(rule_ids(waf->inspect_request(get("/?a=xxxx"))), std::vector<std::string>{});
  EXPECT_EQ(rule_ids(waf->inspect_request(get("/?a=xxxxx"))), std::vector<std::string>{"ml"});
}

TEST(Waf, RegexIsCaseInsensitiveByDefault) {
  auto waf = compile(ruleset(rule("r", regex_on("server.request.uri.raw", "etc/passwd"))));
  EXPECT_EQ(rule_ids(waf->inspect_request(get("/x/../ETC/PASSWD"))), std::vector<std::string>{"r"});
}

TEST(Waf, PhraseMatchWithWordBoundaries) {
  const std::string phrase =
      R"({"operator":"phrase_match","parameters":{"inputs":[{"address":"server.request.headers.no_cookies","key_path":["user-agent"]}],"list":["sqlmap","nikto","$_get"],"options":{"enforce_word_boundary":true}}})";
  auto waf = compile(ruleset(rule("ua", phrase)));
  auto req = [&](std::string_view ua) {
    RequestView r = get("/");
    r.headers = {{"User-Agent", ua}};
    return waf->inspect_request(r);
  };
  EXPECT_EQ(req("sqlmap/1.7").triggers.size(), 1u);
  EXPECT_EQ(req("Mozilla nikto scan").triggers.size(), 1u);
  EXPECT_EQ(req("mysqlmapper").triggers.size(), 0u);  // inside a word
  EXPECT_EQ(req("x$_getter").triggers.size(), 0u);
  EXPECT_EQ(req("x$_get").triggers.size(), 1u);  // '$' is not a word character: no boundary before it
  EXPECT_EQ(req("SQLMAP").triggers.size(), 0u);  // phrases are case-sensitive
}

TEST(Waf, ExactAndIpMatchFromListsAndRulesData) {
  const std::string exact =
      R"({"operator":"exact_match","parameters":{"inputs":[{"address":"server.request.method"}],"list":["TRACE","TRACK"]}})";
  const std::string ip_list =
      R"({"operator":"ip_match","parameters":{"inputs":[{"address":"http.client_ip"}],"list":["198.51.100.0/24","2001:db8::/32"]}})";
  const std::string ip_data =
      R"({"operator":"ip_match","parameters":{"inputs":[{"address":"http.client_ip"}],"data":"blocked_ips"}})";
  const std::string data = R"(,"rules_data":[{"id":"blocked_ips","type":"ip_with_expiration","data":[
      {"value":"203.0.113.7","expiration":0},{"value":"203.0.113.8","expiration":1000},
      {"value":"192.0.2.0/28","expiration":99999999999}]}])";
  auto waf = compile(ruleset(
      rule("m", exact) + "," + rule("l", ip_list) + "," + rule("d", ip_data, R"(,"on_match":["block"])"),
      data));
  RequestView r = get("/");
  r.method = "TRACE";
  EXPECT_EQ(rule_ids(waf->inspect_request(r)), std::vector<std::string>{"m"});
  auto from = [&](std::string_view ip) {
    RequestView v = get("/");
    v.peer_ip = ip;
    return waf->inspect_request(v);
  };
  EXPECT_EQ(rule_ids(from("198.51.100.77")), std::vector<std::string>{"l"});
  EXPECT_EQ(rule_ids(from("2001:db8:1::5")), std::vector<std::string>{"l"});
  EXPECT_EQ(rule_ids(from("2001:db9::5")), std::vector<std::string>{});
  auto blocked = from("203.0.113.7");
  EXPECT_EQ(rule_ids(blocked), std::vector<std::string>{"d"});
  EXPECT_EQ(blocked.action.kind, Action::Kind::block);
  EXPECT_EQ(blocked.action.status, 403u);
  EXPECT_TRUE(from("203.0.113.8").triggers.empty());  // expired in 1970
  EXPECT_EQ(rule_ids(from("192.0.2.15")), std::vector<std::string>{"d"});
  EXPECT_TRUE(from("192.0.2.16").triggers.empty());
}

TEST(Waf, EqualsExistsAndNegations) {
  const std::string equals =
      R"({"operator":"equals","parameters":{"inputs":[{"address":"server.request.body","key_path":["admin"]}],"type":"boolean","value":true}})";
  const std::string exists =
      R"({"operator":"exists","parameters":{"inputs":[{"address":"server.request.headers.no_cookies","key_path":["x-debug"]}]}})";
  const std::string not_exists =
      R"({"operator":"!exists","parameters":{"inputs":[{"address":"server.request.headers.no_cookies","key_path":["host"]}]}})";
  const std::string not_regex =
      R"({"operator":"!match_regex","parameters":{"inputs":[{"address":"server.request.headers.no_cookies","key_path":["x-version"]}],"regex":"^[0-9a-f]{8}$"}})";
  auto waf = compile(ruleset(rule("eq", equals) + "," + rule("ex", exists) + "," + rule("nx", not_exists) +
                             "," + rule("nr", not_regex)));
  RequestView r = get("/");
  r.method = "POST";
  r.headers = {{"Host", "a"}, {"Content-Type", "application/json"}};
  r.body = R"({"admin":true})";
  EXPECT_EQ(rule_ids(waf->inspect_request(r)), std::vector<std::string>{"eq"});
  r.body = R"({"admin":"true"})";
  EXPECT_TRUE(waf->inspect_request(r).triggers.empty());
  r.headers = {{"X-Debug", "1"}};
  EXPECT_EQ(rule_ids(waf->inspect_request(r)), (std::vector<std::string>{"ex", "nx"}));
  r.headers = {{"Host", "a"}, {"X-Version", "deadbeef"}};
  EXPECT_TRUE(waf->inspect_request(r).triggers.empty());
  r.headers = {{"Host", "a"}, {"X-Version", "nope"}};
  auto in = waf->inspect_request(r);
  EXPECT_EQ(rule_ids(in), std::vector<std::string>{"nr"});
  EXPECT_EQ(first_trigger(in)
                .find("rule_matches")
                ->as_array()[0]
                .find("parameters")
                ->as_array()[0]
                .find("value")
                ->as_string(),
            "nope");
}

TEST(Waf, BodyFormsAndCookiesAndPathParams) {
  auto waf = compile(ruleset(rule("b", regex_on("server.request.body", "attack")) + "," +
                             rule("c", regex_on("server.request.cookies", "attack")) + "," +
                             rule("p", regex_on("server.request.path_params", "attack"))));
  RequestView r = get("/");
  r.headers = {{"content-type", "application/x-www-form-urlencoded"}, {"Cookie", "a=1; s=attack"}};
  r.body = "x=1&y=at%74ack";
  EXPECT_EQ(rule_ids(waf->inspect_request(r)), (std::vector<std::string>{"b", "c"}));
  RequestView p = get("/");
  p.path_params = {{"id", "attack"}};
  auto in = waf->inspect_request(p);
  EXPECT_EQ(rule_ids(in), std::vector<std::string>{"p"});
  RequestView bad = get("/");  // unparsable JSON is still inspected, as text
  bad.headers = {{"Content-Type", "application/json"}};
  bad.body = R"({"a": "attack" ,,,)";
  EXPECT_EQ(rule_ids(waf->inspect_request(bad)), std::vector<std::string>{"b"});
}

TEST(Waf, MultipartFormPartsAreInspectedByName) {
  auto waf = compile(ruleset(rule("b", regex_on("server.request.body", "attack"))));
  RequestView r = get("/");
  r.headers = {{"Content-Type", "multipart/form-data; boundary=\"XyZ\""}};
  const std::string body =
      "preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhello\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: "
      "text/plain\r\n\r\n"
      "line one\r\nan attack here\r\n--XyZ--\r\n";
  r.body = body;
  auto in = waf->inspect_request(r);
  ASSERT_EQ(rule_ids(in), std::vector<std::string>{"b"});
  auto p = first_trigger(in).find("rule_matches")->as_array()[0].find("parameters")->as_array()[0];
  EXPECT_EQ(json::encode(*p.find("key_path")), R"(["file"])");
  EXPECT_EQ(p.find("value")->as_string(), "line one\r\nan attack here");
  const std::string cut = "--XyZ\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\nattack without an end";
  r.body = cut;  // cut short: what came is still inspected
  EXPECT_EQ(rule_ids(waf->inspect_request(r)), std::vector<std::string>{"b"});
  r.headers = {{"Content-Type", "multipart/form-data"}};  // no boundary: inspected as text
  EXPECT_EQ(rule_ids(waf->inspect_request(r)), std::vector<std::string>{"b"});
}

// A regex the multi-pattern scans cannot take ("(?-" could undo their multi-line flag) is evaluated on
// its own, wherever it sits: a bug once read its "not prefiltered" flag from the wrong condition when
// non-regex conditions came first.
TEST(Waf, RegexesOutsideTheScansAreStillEvaluated) {
  const std::string exact =
      R"({"operator":"exact_match","parameters":{"inputs":[{"address":"server.request.method"}],"list":["TRACE"]}})";
  auto waf = compile(ruleset(rule("e", exact) + "," + rule("g", regex_on("server.request.query", "good")) +
                             "," + rule("r", regex_on("server.request.query", "(?-m:evil)"))));
  EXPECT_EQ(rule_ids(waf->inspect_request(get("/?q=evil"))), std::vector<std::string>{"r"});
  EXPECT_EQ(rule_ids(waf->inspect_request(get("/?q=good"))), std::vector<std::string>{"g"});
}

TEST(Waf, KeysOnlyTransformerWalksKeys) {
  auto waf = compile(ruleset(
      rule("k", regex_on("server.request.body", "^\\\\$where$"), R"(,"transformers":["keys_only"])")));
  RequestView r = get("/");
  r.headers = {{"Content-Type", "application/json"}};
  r.body = R"({"filter":{"$where":"1"}})";
  auto in = waf->inspect_request(r);
  EXPECT_EQ(rule_ids(in), std::vector<std::string>{"k"});
  r.body = R"({"filter":"$where"})";
  EXPECT_TRUE(waf->inspect_request(r).triggers.empty());
}

TEST(Waf, ActionsBlockRedirectAndMonitor) {
  const std::string actions = R"(,"actions":[
      {"id":"slow_down","type":"block_request","parameters":{"status_code":429,"type":"json"}},
      {"id":"go_away","type":"redirect_request","parameters":{"status_code":302,"location":"/blocked"}},
      {"id":"bad_redirect","type":"redirect_request","parameters":{"location":"ftp://x"}},
      {"id":"trace","type":"generate_stack","parameters":{}}])";
  auto waf = compile(
      ruleset(rule("a", regex_on("server.request.query", "one"), R"(,"on_match":["slow_down"])") + "," +
                  rule("b", regex_on("server.request.query", "two"), R"(,"on_match":["go_away"])") + "," +
                  rule("c", regex_on("server.request.query", "three"), R"(,"on_match":["bad_redirect"])") +
                  "," + rule("d", regex_on("server.request.query", "four"), R"(,"on_match":["trace"])"),
              actions));
  auto a = waf->inspect_request(get("/?q=one"));
  EXPECT_EQ(a.action.kind, Action::Kind::block);
  EXPECT_EQ(a.action.status, 429u);
  EXPECT_EQ(a.action.type, Action::Type::json);
  auto b = waf->inspect_request(get("/?q=two"));
  EXPECT_EQ(b.action.kind, Action::Kind::redirect);
  EXPECT_EQ(b.action.status, 302u);
  EXPECT_EQ(b.action.location, "/blocked");
  auto c = waf->inspect_request(get("/?q=three"));
  EXPECT_EQ(c.action.kind, Action::Kind::block);  // an unusable redirect is the default block
  EXPECT_EQ(c.action.status, 403u);
  auto d = waf->inspect_request(get("/?q=four"));
  EXPECT_EQ(d.action.kind, Action::Kind::none);
  EXPECT_EQ(d.triggers.size(), 1u);
  EXPECT_EQ(json::encode(*first_trigger(d).find("rule")->find("on_match")), R"(["trace"])");
}

TEST(Waf, BadRulesAreSkippedAndCounted) {
  auto waf = compile(ruleset(
      rule("ok", regex_on("server.request.query", "x")) + "," +
      rule("rasp",
           R"({"operator":"lfi_detector@v2","parameters":{"inputs":[{"address":"server.io.fs.file"}]}})") +
      "," + rule("badre", regex_on("server.request.query", "(?<=x)y")) + "," +
      rule("badtr", regex_on("server.request.query", "x"), R"(,"transformers":["rot13"])") + "," +
      rule("ok", regex_on("server.request.query", "y")) + "," + R"({"id":"notags","conditions":[]})" + "," +
      rule("old", regex_on("server.request.query", "x"), R"(,"max_version":"1.0.0")") + "," +
      rule("new", regex_on("server.request.query", "x"), R"(,"min_version":"99.0.0")") + "," +
      rule("gql", regex_on("graphql.server.all_resolvers", "x"))));
  const RulesetInfo& info = waf->info();
  EXPECT_EQ(info.loaded, 2u);  // ok, gql (an address a proxy never has still loads)
  EXPECT_EQ(info.failed, 5u);
  EXPECT_EQ(info.skipped, 2u);
  EXPECT_EQ(info.errors.at("unknown operator: 'lfi_detector@v2'"), std::vector<std::string>{"rasp"});
  EXPECT_EQ(info.errors.at("duplicate rule"), std::vector<std::string>{"ok"});
  EXPECT_EQ(info.errors.at("unknown transformer: 'rot13'"), std::vector<std::string>{"badtr"});
  auto errors = json::parse(info.errors_json());
  ASSERT_TRUE(errors.has_value());
  EXPECT_EQ(rule_ids(waf->inspect_request(get("/?q=x"))), std::vector<std::string>{"ok"});
}

TEST(Waf, UnusableDocumentsRefuseWithFileAndPosition) {
  auto message = [](const std::string& text) {
    try {
      compile(text);
    } catch (const LoadError& e) {
      return std::string(e.what());
    }
    return std::string("loaded");
  };
  EXPECT_EQ(
      message("{\n  \"version\": \"2.2\",\n  \"rules\": [,]\n}"),
      "AppSec rules 'test.json': line 3, column 13: invalid character ',' looking for beginning of value");
  EXPECT_NE(message(R"({"version":"2.2","rules":{}})").find("field 'rules': must be an array"),
            std::string::npos);
  EXPECT_NE(message(R"({"version":"1.0","rules":[]})").find("field 'version'"), std::string::npos);
  EXPECT_NE(message(R"([1,2])").find("line 1, column 1, field '$'"), std::string::npos);
  EXPECT_NE(message(R"({"version":"2.1"})").find("field 'rules'"), std::string::npos);
  EXPECT_EQ(message(R"({"version":"2.1","rules":[],"processors":[],"scanners":[]})"), "loaded");
}

TEST(Waf, ResponseStatusRulesWaitForTheResponse) {
  const std::string status =
      R"({"operator":"match_regex","parameters":{"inputs":[{"address":"server.response.status"}],"regex":"^404$","options":{"case_sensitive":true}}})";
  auto waf = compile(ruleset(rule("nfd", status + "," + regex_on("server.request.uri.raw", "\\\\.php"))));
  auto in = waf->inspect_request(get("/admin.php"));
  EXPECT_TRUE(in.triggers.empty());
  waf->inspect_response(in, 404);
  ASSERT_EQ(rule_ids(in), std::vector<std::string>{"nfd"});
  EXPECT_EQ(first_trigger(in).find("rule_matches")->as_array().size(), 2u);
  auto ok = waf->inspect_request(get("/admin.php"));
  waf->inspect_response(ok, 200);
  EXPECT_TRUE(ok.triggers.empty());
  auto other = waf->inspect_request(get("/index.html"));
  waf->inspect_response(other, 404);
  EXPECT_TRUE(other.triggers.empty());
}

TEST(Waf, ExclusionsBypassMonitorAndRemoveInputs) {
  const std::string exclusions = R"(,"exclusions":[
      {"id":"f1","rules_target":[{"rule_id":"a"}],"conditions":[{"operator":"match_regex","parameters":{"inputs":[{"address":"server.request.uri.raw"}],"regex":"^/internal"}}]},
      {"id":"f2","rules_target":[{"tags":{"type":"t_b"}}],"on_match":"monitor"},
      {"id":"f3","inputs":[{"address":"server.request.query","key_path":["safe"]}]}])";
  auto waf =
      compile(ruleset(rule("a", regex_on("server.request.query", "evil")) + "," +
                          rule("b", regex_on("server.request.query", "evil"), R"(,"on_match":["block"])"),
                      exclusions));
  auto outside = waf->inspect_request(get("/x?q=evil"));
  EXPECT_EQ(rule_ids(outside), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(outside.action.kind, Action::Kind::none);  // b only monitors
  EXPECT_EQ(rule_ids(waf->inspect_request(get("/internal?q=evil"))), std::vector<std::string>{"b"});
  EXPECT_TRUE(waf->inspect_request(get("/x?safe=evil")).triggers.empty());
}

TEST(Waf, CustomRulesComeFirst) {
  auto waf =
      compile(R"({"version":"2.2","rules":[)" + rule("base", regex_on("server.request.query", "x")) +
              R"(],"custom_rules":[)" +
              rule("custom", regex_on("server.request.query", "x"), R"(,"on_match":["block"])") + "]}");
  auto in = waf->inspect_request(get("/?a=x"));
  EXPECT_EQ(rule_ids(in), std::vector<std::string>{"custom"});  // it blocks: evaluation stops there
  EXPECT_EQ(waf->info().loaded, 2u);
}

TEST(Waf, SensitiveValuesAreRedacted) {
  auto waf = compile(ruleset(rule("r", regex_on("server.request.query", "evil"))));
  auto in = waf->inspect_request(get("/?password=evil"));
  auto p = first_trigger(in).find("rule_matches")->as_array()[0].find("parameters")->as_array()[0];
  EXPECT_EQ(p.find("value")->as_string(), "<Redacted>");
  EXPECT_EQ(p.find("highlight")->as_array().at(0).as_string(), "<Redacted>");
}

TEST(Waf, HostileInputIsBounded) {
  auto waf = compile(ruleset(rule("r", regex_on("server.request.query", "needle")) + "," +
                             rule("b", regex_on("server.request.body", "needle"))));
  std::string target = "/?";
  for (int i = 0; i < 10000; ++i) target += "k" + std::to_string(i) + "=v&";
  auto start = std::chrono::steady_clock::now();
  auto in = waf->inspect_request(get(target));
  EXPECT_TRUE(in.triggers.empty());
  RequestView deep = get("/");
  deep.headers = {{"Content-Type", "application/json"}};
  std::string body(100000, '[');
  deep.body = body;
  in = waf->inspect_request(deep);
  EXPECT_TRUE(in.triggers.empty());
  std::string huge(10 << 20, 'a');
  huge += "needle";
  deep.body = huge;
  deep.headers = {{"Content-Type", "text/plain"}};
  in = waf->inspect_request(deep);
  EXPECT_TRUE(in.triggers.empty());  // beyond what is inspected
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(Waf, TimeBudgetStopsMatching) {
  Settings s = test_settings();
  s.waf_timeout = std::chrono::microseconds(0);
  std::string rules;
  for (int i = 0; i < 50; ++i)
    rules += (i ? "," : "") +
             rule("r" + std::to_string(i), regex_on("server.request.query", "z" + std::to_string(i)));
  auto waf = compile(ruleset(rules), s);
  std::string target = "/?";
  for (int i = 0; i < 200; ++i) target += "k" + std::to_string(i) + "=v&";
  auto in = waf->inspect_request(get(target));
  EXPECT_TRUE(in.timed_out);
}

TEST(Waf, BuiltinRulesetLoadsWithoutErrors) {
  auto waf = Waf::compile(builtin_rules(), "built-in", test_settings());
  EXPECT_EQ(waf->info().failed, 0u) << waf->info().errors_json();
}

}  // namespace
}  // namespace gw::appsec

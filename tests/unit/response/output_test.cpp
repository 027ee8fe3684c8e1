#include <gtest/gtest.h>

#include "response/response.h"

namespace gw::response {
namespace {

using json::Value;

Value J(std::string_view s) {
  auto v = json::parse(s);
  EXPECT_TRUE(v) << s;
  return v ? std::move(*v) : Value();
}

TEST(Merge, ShallowLaterOverwrites) {
  Value acc = J(R"({"a":1,"n":{"x":1}})");
  EXPECT_TRUE(merge(acc, J(R"({"b":2,"n":{"y":2}})")));
  EXPECT_EQ(json::encode(acc), R"({"a":1,"b":2,"n":{"y":2}})");
}

TEST(Merge, NilPartsAreSkipped) {
  Value acc;
  EXPECT_FALSE(merge(acc, Value()));
  EXPECT_TRUE(acc.is_null());
  EXPECT_TRUE(merge(acc, J(R"({"a":1})")));
  EXPECT_FALSE(merge(acc, Value()));
  EXPECT_EQ(json::encode(acc), R"({"a":1})");
}

TEST(Merge, LargeObjectsUseTheIndexedPath) {
  Value a = Value::object(), b = Value::object();
  for (int i = 0; i < 100; ++i) a.set("k" + std::to_string(i), Value::number(i));
  for (int i = 50; i < 150; ++i) b.set("k" + std::to_string(i), Value("b"));
  merge(a, std::move(b));
  EXPECT_EQ(a.as_object().size(), 150u);
  EXPECT_EQ(a.find("k10")->number_text(), "10");
  EXPECT_EQ(a.find("k60")->as_string(), "b");
  EXPECT_EQ(a.find("k149")->as_string(), "b");
}

TEST(Merge, DetailErrorPartKeepsStructOrder) {
  // lura test/integration_test.go "detail_error"
  Value acc = J(R"({"name":"a","email":"some@email.com"})");
  merge(acc, error_details("backend_a", 429, "sad panda\n", "text/plain; charset=utf-8"));
  EXPECT_EQ(
      render("json", &acc, "").body,
      R"({"email":"some@email.com","error_backend_a":{"http_status_code":429,"http_body":"sad panda\n",)"
      R"("http_body_encoding":"text/plain; charset=utf-8"},"name":"a"})");
}

TEST(ErrorDetails, EmptyFieldsOmitted) {
  EXPECT_EQ(json::encode(error_details("b", 500, "", "")), R"({"error_b":{"http_status_code":500}})");
  EXPECT_EQ(json::encode(error_details("b", 404, "", "text/plain")),
            R"({"error_b":{"http_status_code":404,"http_body_encoding":"text/plain"}})");
}

TEST(Static, StrategyMatrix) {
  using S = StaticConfig::Strategy;
  // (has_response, has_error, complete)
  EXPECT_TRUE(static_applies(S::Always, false, true, false));
  EXPECT_TRUE(static_applies(S::Success, true, false, false));
  EXPECT_FALSE(static_applies(S::Success, true, true, true));
  EXPECT_TRUE(static_applies(S::Complete, true, false, true));
  EXPECT_FALSE(static_applies(S::Complete, true, false, false));
  EXPECT_FALSE(static_applies(S::Complete, false, false, true));
  EXPECT_TRUE(static_applies(S::Errored, false, true, false));
  EXPECT_FALSE(static_applies(S::Errored, true, false, true));
  EXPECT_TRUE(static_applies(S::Incomplete, false, false, false));
  EXPECT_TRUE(static_applies(S::Incomplete, true, true, false));
  EXPECT_FALSE(static_applies(S::Incomplete, true, false, true));
}

TEST(Static, ShallowOverwriteAndNilBecomesObject) {
  std::optional<StaticConfig> cfg;
  ASSERT_FALSE(parse_static(J(R"({"strategy":"errored","data":{"foo":42,"bar":"foobar"}})"), cfg));
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->strategy, StaticConfig::Strategy::Errored);
  Value nil;  // all backends failed: lura test/lura.json /static -> 200 {"bar":"foobar","foo":42}
  apply_static(nil, *cfg);
  EXPECT_EQ(render("json", &nil, "").body, R"({"bar":"foobar","foo":42})");
  Value d = J(R"({"foo":{"deep":1},"keep":true})");
  apply_static(d, *cfg);
  EXPECT_EQ(json::encode(d), R"({"bar":"foobar","foo":42,"keep":true})");
}

TEST(Static, ConfigParsing) {
  std::optional<StaticConfig> cfg;
  EXPECT_FALSE(parse_static(J(R"({"strategy":"errored","data":[1]})"), cfg));
  EXPECT_FALSE(cfg);  // data not an object: ignored
  EXPECT_FALSE(parse_static(J(R"({"strategy":"nonsense","data":{}})"), cfg));
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->strategy, StaticConfig::Strategy::Always);
  EXPECT_FALSE(parse_static(J(R"({"data":{"a":1}})"), cfg));
  EXPECT_EQ(cfg->strategy, StaticConfig::Strategy::Always);
  for (auto [name, s] : {std::pair{"success", StaticConfig::Strategy::Success},
                         {"complete", StaticConfig::Strategy::Complete},
                         {"incomplete", StaticConfig::Strategy::Incomplete}}) {
    parse_static(J(std::string(R"({"data":{},"strategy":")") + name + "\"}"), cfg);
    EXPECT_EQ(cfg->strategy, s) << name;
  }
}

TEST(Render, Json) {
  auto r = render("json", nullptr, "");
  EXPECT_EQ(r.content_type, "application/json; charset=utf-8");
  EXPECT_EQ(r.body, "{}");
  Value v = J(R"({"b":"<&>","a":1})");
  EXPECT_EQ(render("json", &v, "").body, R"({"a":1,"b":"\u003c\u0026\u003e"})");
  EXPECT_EQ(render("unknown", &v, "").body, R"({"a":1,"b":"\u003c\u0026\u003e"})");
}

TEST(Render, JsonCollection) {
  EXPECT_EQ(render("json-collection", nullptr, "").body, "[]");
  Value v = J(R"({"collection":[{"i":1}],"x":1})");
  EXPECT_EQ(render("json-collection", &v, "").body, R"([{"i":1}])");
  Value w = J(R"({"x":1})");
  EXPECT_EQ(render("json-collection", &w, "").body, "[]");
  Value s = J(R"({"collection":"str"})");
  EXPECT_EQ(render("json-collection", &s, "").body, R"("str")");
}

TEST(Render, String) {
  Value v = J(R"({"content":"hello <b>"})");
  auto r = render("string", &v, "");
  EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(r.body, "hello <b>");
  Value n = J(R"({"content":42})");
  EXPECT_EQ(render("string", &n, "").body, "");
  EXPECT_EQ(render("string", nullptr, "").body, "");
}

TEST(Render, XmlLikeKrakendXml) {
  // krakend-ce tests/fixtures/specs/xml_1.json and krakend-xml gin/render_test.go
  Value user = J(R"({"user":{"-type":"admin","name":"Elliot","social":{"facebook":"https://facebook.com",)"
                 R"("twitter":"https://twitter.com","youtube":"https://youtube.com"}}})");
  auto r = render("xml", &user, "");
  EXPECT_EQ(r.content_type, "application/xml");
  EXPECT_EQ(r.body,
            "<user type=\"admin\"><name>Elliot</name><social><facebook>https://facebook.com</facebook>"
            "<twitter>https://twitter.com</twitter><youtube>https://youtube.com</youtube></social></user>");
  Value multi = J(R"({"a":{"content":"supu & tupu"},"content":"tupu","foo":42})");
  EXPECT_EQ(render("xml", &multi, "").body,
            "<doc><a><content>supu &amp; tupu</content></a><content>tupu</content><foo>42</foo></doc>");
  Value list = J(R"({"item":[{"i":1},{"i":2}]})");
  EXPECT_EQ(render("xml", &list, "").body, "<item><i>1</i></item><item><i>2</i></item>");
  EXPECT_EQ(render("xml", nullptr, "").content_type, "application/xml; charset=utf-8");
  // krakend-xml_2 (specs/xml_2.json): several keys go under <doc>, one-element lists unwrap, {} is <query/>
  Value echo =
      J(R"({"foo":42,"headers":{"Accept-Encoding":["gzip"],"User-Agent":["KrakenD Version 2.13.8"]},)"
        R"("path":"/param_forwarding/","query":{}})");
  EXPECT_EQ(
      render("xml", &echo, "").body,
      "<doc><foo>42</foo><headers><Accept-Encoding>gzip</Accept-Encoding><User-Agent>KrakenD Version 2.13.8"
      "</User-Agent></headers><path>/param_forwarding/</path><query/></doc>");
  // mxj rejects an attribute that is not a scalar; krakend-xml then writes no body.
  Value bad = J(R"({"a":{"-x":{"y":1},"b":"c"}})");
  EXPECT_EQ(render("xml", &bad, "").body, "");
  Value bad_null = J(R"({"a":[{"-x":null}]})");
  EXPECT_EQ(render("xml", &bad_null, "").body, "");
}

TEST(Render, NegotiateAndYaml) {
  // krakend-ce tests/fixtures/specs/negotitate_plain.json
  Value user = J(R"({"user":{"-type":"admin","name":"Elliot","social":{"facebook":"https://facebook.com",)"
                 R"("twitter":"https://twitter.com","youtube":"https://youtube.com"}}})");
  auto r = render("negotiate", &user, "text/plain");
  EXPECT_EQ(r.content_type, "application/yaml; charset=utf-8");
  EXPECT_EQ(r.body,
            "user:\n  -type: admin\n  name: Elliot\n  social:\n    facebook: https://facebook.com\n"
            "    twitter: https://twitter.com\n    youtube: https://youtube.com\n");
  EXPECT_EQ(render("negotiate", &user, "application/json").content_type, "application/json; charset=utf-8");
  EXPECT_EQ(render("negotiate", &user, "").content_type, "application/json; charset=utf-8");
  EXPECT_EQ(render("negotiate", &user, "image/png").content_type, "application/json; charset=utf-8");
  EXPECT_EQ(render("negotiate", &user, "application/xml;q=0.9, text/plain").content_type, "application/xml");
  EXPECT_EQ(render("negotiate", &user, "*/*").content_type, "application/json; charset=utf-8");
  EXPECT_EQ(render("negotiate", &user, "text/*").content_type, "application/yaml; charset=utf-8");
  EXPECT_EQ(render("negotiate", &user, "application/x-yaml").content_type, "application/yaml; charset=utf-8");
}

TEST(Render, YamlShapes) {
  Value v = J(R"({"list":[1,"two",{"a":1,"b":[]}],"empty":{},"s":"true","n":null,"q":"a: b"})");
  EXPECT_EQ(render("yaml", &v, "").body,
            "empty: {}\nlist:\n- 1\n- two\n- a: 1\n  b: []\n\"n\": null\nq: 'a: b'\ns: \"true\"\n");
  EXPECT_EQ(render("yaml", nullptr, "").body, "{}\n");
}

TEST(Render, EffectiveOutputEncoding) {
  EXPECT_EQ(effective_output_encoding("", {"json"}), "json");
  EXPECT_EQ(effective_output_encoding("", {"string"}), "string");
  EXPECT_EQ(effective_output_encoding("", {"safejson"}), "json");
  EXPECT_EQ(effective_output_encoding("", {"string", "string"}), "json");
  EXPECT_EQ(effective_output_encoding("bogus", {"string"}), "string");
  EXPECT_EQ(effective_output_encoding("negotiate", {"json"}), "negotiate");
  EXPECT_EQ(effective_output_encoding("json-collection", {"json"}), "json-collection");
}

TEST(Sequential, SubstitutesFromShapedResponses) {
  Value r0 =
      J(R"({"first":{"foo":42,"s":"x y","arr":["a",1,null,{"k":"v","a":[1,2]}],"nil":null,"b":true}})");
  std::vector<const Value*> prev{&r0};
  EXPECT_EQ(substitute_sequential("/recipient/{resp0_first.foo}", prev), "/recipient/42");
  EXPECT_EQ(substitute_sequential("/{resp0_first.s}/{resp0_first.b}", prev), "/x y/true");
  EXPECT_EQ(substitute_sequential("/{resp0_first.arr}", prev), "/a,1,<nil>,map[a:[1 2] k:v]");
  EXPECT_EQ(substitute_sequential("/{resp0_first.nil}", prev), "/<nil>");
  EXPECT_EQ(substitute_sequential("/{resp0_first}", prev),
            "/map[arr:[a 1 <nil> map[a:[1 2] k:v]] b:true foo:42 "
            "nil:<nil> s:x y]");
  // unknown stays as written
  EXPECT_EQ(substitute_sequential("/{resp0_first.missing}/{resp1_x}/{id}?q={resp0_first.foo}", prev),
            "/{resp0_first.missing}/{resp1_x}/{id}?q=42");
  // Lura falls back to the deepest object found when a middle segment is missing
  EXPECT_EQ(substitute_sequential("/{resp0_nope.first}", prev).substr(0, 5), "/map[");
  std::vector<const Value*> none{nullptr};
  EXPECT_EQ(substitute_sequential("/{resp0_first.foo}", none), "/{resp0_first.foo}");
  EXPECT_EQ(substitute_sequential("/{resp", prev), "/{resp");
  Value empty = J(R"({"a":[]})");
  std::vector<const Value*> e{&empty};
  EXPECT_EQ(substitute_sequential("/x{resp0_a}y", e), "/xy");
}

TEST(Config, BackendShaping) {
  Value b = J(R"({"url_pattern":"/x","encoding":"safejson","is_collection":"true","target":"data",
    "allow":["a","b.c"],"deny":"d","mapping":{"a":"alpha"},"group":"g",
    "extra_config":{"proxy":{"flatmap_filter":[{"type":"move","args":["a","b"]},"skip",{"args":[]},
      {"type":"unknown","args":["x"]},{"type":"del","args":["c","d.*"]}]}}})");
  BackendShaping s;
  ASSERT_FALSE(parse_backend_shaping(b, s));
  EXPECT_EQ(s.encoding, "safejson");
  EXPECT_TRUE(s.is_collection);
  EXPECT_EQ(s.target, "data");
  EXPECT_EQ(s.allow, (std::vector<std::string>{"a", "b.c"}));
  EXPECT_EQ(s.deny, (std::vector<std::string>{"d"}));
  ASSERT_EQ(s.mapping.size(), 1u);
  EXPECT_EQ(s.group, "g");
  ASSERT_EQ(s.flatmap.size(), 2u);
  EXPECT_EQ(s.flatmap[1].args[1], (std::vector<std::string>{"d", "*"}));
}

TEST(Config, BackendShapingErrorsPointAtTheValue) {
  std::string text = R"({"is_collection":"yes"})";
  Value b = J(text);
  BackendShaping s;
  auto p = parse_backend_shaping(b, s);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->field, "is_collection");
  EXPECT_EQ(p->where->offset(), text.find("\"yes\""));
  EXPECT_EQ(p->message,
            "'is_collection' expected type 'bool', got unconvertible type 'string', value: 'yes'");
  Value m = J(R"({"mapping":{"a":{}}})");
  EXPECT_TRUE(parse_backend_shaping(m, s));
  Value f = J(R"({"extra_config":{"proxy":{"flatmap_filter":[{"type":"move","args":["a"]}]}}})");
  auto fp = parse_backend_shaping(f, s);
  ASSERT_TRUE(fp);
  EXPECT_EQ(fp->field, "extra_config.proxy.flatmap_filter[0].args");
  Value legacy = J(
      R"({"extra_config":{"github.com/devopsfaith/krakend/proxy":{"flatmap_filter":[{"type":"del","args":["a"]}]}}})");
  BackendShaping l;
  ASSERT_FALSE(parse_backend_shaping(legacy, l));
  EXPECT_EQ(l.flatmap.size(), 1u);
}

}  // namespace
}  // namespace gw::response

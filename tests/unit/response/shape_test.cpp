#include <gtest/gtest.h>

#include "response/response.h"

namespace gw::response {
namespace {

using json::Value;

Value J(std::string_view s) {
  json::ParseError e;
  auto v = json::parse(s, &e);
  EXPECT_TRUE(v) << s << ": " << e.message;
  return v ? std::move(*v) : Value();
}

std::string Dec(std::string_view body, BackendShaping s = {}) {
  Value out;
  std::string err;
  if (!decode(body, s, out, err)) return "ERR:" + err;
  return json::encode(out);
}

std::string Shape(std::string_view body, const BackendShaping& s) {
  Value v = J(body);
  shape(v, s);
  return json::encode(v);
}

TEST(Decode, JsonObjectKeepsNumberLiterals) {
  EXPECT_EQ(Dec(R"({"b":1.0,"a":12345678901234567890})"), R"({"a":12345678901234567890,"b":1.0})");
}

TEST(Decode, JsonTrailingBytesIgnored) { EXPECT_EQ(Dec("{\"a\":1}\n{\"b\":2} garbage"), R"({"a":1})"); }

TEST(Decode, JsonNonObjectIsAnError) {
  EXPECT_EQ(Dec("[1,2]"), "ERR:json: cannot unmarshal array into Go value of type map[string]interface {}");
  EXPECT_EQ(Dec("\"x\""), "ERR:json: cannot unmarshal string into Go value of type map[string]interface {}");
  EXPECT_EQ(Dec("42"), "ERR:json: cannot unmarshal number into Go value of type map[string]interface {}");
  EXPECT_EQ(Dec(""), "ERR:EOF");
  EXPECT_EQ(Dec("  \n"), "ERR:EOF");
  EXPECT_EQ(Dec("{\"a\":"), "ERR:unexpected EOF");
  EXPECT_EQ(Dec("{a}"), "ERR:invalid character 'a' looking for beginning of object key string");
}

TEST(Decode, JsonNullBodyIsNilMap) {
  Value out = Value::object();
  std::string err;
  ASSERT_TRUE(decode("null", BackendShaping{}, out, err));
  EXPECT_TRUE(out.is_null());
  EXPECT_EQ(render("json", &out, "").body, "null");
}

TEST(Decode, Collection) {
  BackendShaping s;
  s.is_collection = true;
  EXPECT_EQ(Dec(R"([{"i":1},{"i":2}])", s), R"({"collection":[{"i":1},{"i":2}]})");
  EXPECT_EQ(Dec("null", s), R"({"collection":null})");
  EXPECT_EQ(Dec(R"({"a":1})", s), "ERR:json: cannot unmarshal object into Go value of type []interface {}");
}

TEST(Decode, SafeJson) {
  BackendShaping s;
  s.encoding = "safejson";
  EXPECT_EQ(Dec(R"({"a":1})", s), R"({"a":1})");
  EXPECT_EQ(Dec("[1,2]", s), R"({"collection":[1,2]})");
  EXPECT_EQ(Dec("42", s), R"({"content":42})");
  EXPECT_EQ(Dec("\"hi\"", s), R"({"content":"hi"})");
  EXPECT_EQ(Dec("true", s), R"({"content":true})");
  EXPECT_EQ(Dec("null", s), R"({"content":null})");
  EXPECT_EQ(Dec("", s), "ERR:EOF");
}

TEST(Decode, StringAndNoOpAndUnknown) {
  BackendShaping s;
  s.encoding = "string";
  EXPECT_EQ(Dec("hello <b>\n", s), R"({"content":"hello \u003cb\u003e\n"})");
  EXPECT_EQ(Dec("", s), R"({"content":""})");
  s.encoding = "no-op";
  EXPECT_EQ(Dec("anything", s), "{}");
  s.encoding = "fast-json";  // unknown: json decoder
  EXPECT_EQ(Dec(R"({"a":1})", s), R"({"a":1})");
  EXPECT_EQ(Dec("[1]", s).substr(0, 4), "ERR:");
}

TEST(Shape, TargetExtractsNestedObject) {
  BackendShaping s;
  s.target = "data.user";
  EXPECT_EQ(Shape(R"({"data":{"user":{"id":1},"x":2},"y":3})", s), R"({"id":1})");
}

TEST(Shape, TargetMissingOrNotObjectGivesEmpty) {
  BackendShaping s;
  s.target = "data.user";
  EXPECT_EQ(Shape(R"({"data":{"x":2}})", s), "{}");
  EXPECT_EQ(Shape(R"({"data":{"user":[1,2]}})", s), "{}");
  EXPECT_EQ(Shape(R"({"data":"str"})", s), "{}");
  Value nil;
  shape(nil, s);
  EXPECT_EQ(json::encode(nil), "{}");
}

TEST(Shape, AllowWithNestedPaths) {
  BackendShaping s;
  s.allow = {"a", "b.c", "b.d.e", "missing"};
  EXPECT_EQ(Shape(R"({"a":[1],"b":{"c":1,"d":{"e":2,"f":3},"g":4},"h":5})", s),
            R"({"a":[1],"b":{"c":1,"d":{"e":2}}})");
}

TEST(Shape, AllowDoesNotDescendIntoArraysAndDropsEmptiedBranches) {
  BackendShaping s;
  s.allow = {"list.id", "obj.x"};
  EXPECT_EQ(Shape(R"({"list":[{"id":1}],"obj":{"y":1},"z":1})", s), "{}");
}

TEST(Shape, AllowLaterEntriesOverrideEarlier) {
  BackendShaping s;
  s.allow = {"a", "a.b"};  // "a.b" replaces the leaf "a"
  EXPECT_EQ(Shape(R"({"a":{"b":1,"c":2}})", s), R"({"a":{"b":1}})");
  s.allow = {"a.b", "a"};  // "a" replaces the subtree
  EXPECT_EQ(Shape(R"({"a":{"b":1,"c":2}})", s), R"({"a":{"b":1,"c":2}})");
}

TEST(Shape, DenyTopLevelAndNested) {
  BackendShaping s;
  s.deny = {"a", "b.c", "x.y"};
  EXPECT_EQ(Shape(R"({"a":1,"b":{"c":1,"d":2},"x":5,"z":3})", s), R"({"b":{"d":2},"x":5,"z":3})");
  s.deny = {"b.c"};
  EXPECT_EQ(Shape(R"({"b":{"c":1}})", s), R"({"b":{}})");
}

TEST(Shape, DenyIsATreeOfAnyDepth) {
  // Lura's deny tree (TestEntityFormatter_newDenyFilter): deep paths delete only their last key.
  BackendShaping s;
  s.deny = {"supu", "a.b", "a.c", "foo.unknown", "a.a.b", "a.a.deeper.a.aa", "a.a.deeper.b.aa"};
  EXPECT_EQ(
      Shape(R"({"supu":42,"tupu":false,"foo":"bar","a":{"b":true,"c":42,"d":"tupu",
                      "a":{"b":1,"c":2,"deeper":{"a":{"aa":1,"bb":2},"b":{"aa":3,"cc":4}}}}})",
            s),
      R"({"a":{"a":{"c":2,"deeper":{"a":{"bb":2},"b":{"cc":4}}},"d":"tupu"},"foo":"bar","tupu":false})");
  s.deny = {"a.b.c"};
  EXPECT_EQ(Shape(R"({"a":{"b":{"c":1,"d":2},"e":3}})", s), R"({"a":{"b":{"d":2},"e":3}})");
  s.deny = {"a", "a.b"};  // a path under a deleted key adds nothing
  EXPECT_EQ(Shape(R"({"a":{"b":1,"c":2},"k":1})", s), R"({"k":1})");
  s.deny = {"a.b", "a"};  // a shorter path deletes the whole subtree
  EXPECT_EQ(Shape(R"({"a":{"b":1,"c":2},"k":1})", s), R"({"k":1})");
  s.deny = {"a.b.c"};  // scalars and arrays on the way are left alone
  EXPECT_EQ(Shape(R"({"a":{"b":[{"c":1}]},"x":1})", s), R"({"a":{"b":[{"c":1}]},"x":1})");
  EXPECT_EQ(Shape(R"({"a":5})", s), R"({"a":5})");
}

TEST(Shape, AllowWinsOverDeny) {
  BackendShaping s;
  s.allow = {"a"};
  s.deny = {"a"};
  EXPECT_EQ(Shape(R"({"a":1,"b":2})", s), R"({"a":1})");
}

TEST(Shape, MappingTopLevelOnly) {
  BackendShaping s;
  s.mapping = {{"a", "alpha.ignored"}, {"b.c", "x"}, {"missing", "m"}};
  EXPECT_EQ(Shape(R"({"a":1,"b":{"c":2}})", s), R"({"alpha":1,"b":{"c":2}})");
  s.mapping = {{"a", "a"}};  // Lura sets then deletes the same key
  EXPECT_EQ(Shape(R"({"a":1,"b":2})", s), R"({"b":2})");
  s.mapping = {{"a", "b"}};
  EXPECT_EQ(Shape(R"({"a":1,"b":2})", s), R"({"b":1})");
}

TEST(Shape, GroupWrapsLast) {
  BackendShaping s;
  s.target = "d";
  s.allow = {"k", "v"};
  s.mapping = {{"k", "key"}};
  s.group = "g";
  EXPECT_EQ(Shape(R"({"d":{"k":1,"v":2,"w":3}})", s), R"({"g":{"key":1,"v":2}})");
  BackendShaping g;
  g.group = "g";
  Value nil;
  shape(nil, g);
  EXPECT_EQ(json::encode(nil), R"({"g":null})");
}

TEST(Shape, FlatmapReplacesAllowDenyMappingButKeepsTargetAndGroup) {
  // Lura TestEntityFormatter_flatmap.
  const char* body = R"({"content":{"supu":42,"tupu":false,"foo":"bar",
    "a":{"b":true,"c":42,"d":"tupu","e":[1,2,3,4]},
    "collection":[{"b":true,"c":42,"d":"tupu","e":[1,2,3,4]},{"b":true,"c":42,"d":"tupu","e":[1,2,3,4]}],
    "y":[0,1,2],"z":[10,11]}})";
  BackendShaping s;
  s.target = "content";
  s.group = "group";
  s.allow = {"nothing"};
  s.mapping = {{"foo", "FOO"}};
  using T = FlatmapOp::Type;
  s.flatmap = {FlatmapOp::make(T::Del, {"c"}),
               FlatmapOp::make(T::Append, {"y", "z"}),
               FlatmapOp::make(T::Move, {"supu", "SUPUUUUU"}),
               FlatmapOp::make(T::Move, {"a.b", "a.BOOOOO"}),
               FlatmapOp::make(T::Del, {"collection.*.b", "collection.*.d", "collection.*.e"}),
               FlatmapOp::make(T::Move, {"collection.*.c", "collection.*.x"})};
  EXPECT_EQ(Shape(body, s),
            R"({"group":{"SUPUUUUU":42,"a":{"BOOOOO":true,"c":42,"d":"tupu","e":[1,2,3,4]},)"
            R"("collection":[{"x":42},{"x":42}],"foo":"bar","tupu":false,"z":[10,11,0,1,2]}})");
}

}  // namespace
}  // namespace gw::response

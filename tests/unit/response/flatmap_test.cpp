#include <gtest/gtest.h>

#include "response/response.h"

namespace gw::response {
namespace {

using json::Value;
using T = FlatmapOp::Type;

std::string F(std::string_view body, std::vector<FlatmapOp> ops) {
  auto v = json::parse(body);
  EXPECT_TRUE(v);
  apply_flatmap(*v, ops);
  return json::encode(*v);
}

TEST(Flatmap, DelAndRenameInCollections) {
  // Lura test/integration_test.go "flatmap del" / "flatmap rename".
  const char* body = R"({"collection":[{"body":"some content","created_at":"123456789","id":1},)"
                     R"({"body":"some other content","created_at":"123496789","id":2}]})";
  EXPECT_EQ(F(body, {FlatmapOp::make(T::Del, {"collection.*.created_at", "collection.*.id"})}),
            R"({"collection":[{"body":"some content"},{"body":"some other content"}]})");
  EXPECT_EQ(F(body, {FlatmapOp::make(T::Del, {"collection.*.id"}),
                     FlatmapOp::make(T::Move, {"collection.*.created_at", "collection.*.created"})}),
            R"({"collection":[{"body":"some content","created":"123456789"},)"
            R"({"body":"some other content","created":"123496789"}]})");
}

TEST(Flatmap, ArrayElementsKeepTheirIndexLabels) {
  // After deleting element 0, "list.1" still names the original second element.
  EXPECT_EQ(F(R"({"list":["a","b","c"]})",
              {FlatmapOp::make(T::Del, {"list.0"}), FlatmapOp::make(T::Del, {"list.1"})}),
            R"({"list":["c"]})");
}

TEST(Flatmap, EmptiedContainerBecomesNull) {
  EXPECT_EQ(F(R"({"a":{"b":1},"c":2})", {FlatmapOp::make(T::Del, {"a.b"})}), R"({"a":null,"c":2})");
  EXPECT_EQ(F(R"({"a":{}})", {FlatmapOp::make(T::Del, {"a.b"})}), R"({"a":{}})");
  Value v = *json::parse(R"({"a":1})");
  apply_flatmap(v, {FlatmapOp::make(T::Del, {"*"})});
  EXPECT_TRUE(v.is_null());
}

TEST(Flatmap, MoveEmbedsAndPromotes) {
  EXPECT_EQ(F(R"({"a":1,"b":{"x":1}})", {FlatmapOp::make(T::Move, {"a", "b.y"})}), R"({"b":{"x":1,"y":1}})");
  EXPECT_EQ(F(R"({"a":1})", {FlatmapOp::make(T::Move, {"a", "n.m.o"})}), R"({"n":{"m":{"o":1}}})");
  EXPECT_EQ(F(R"({"a":{"b":{"c":1}},"d":2})", {FlatmapOp::make(T::Move, {"a.b.c", "c"})}),
            R"({"a":{"b":null},"c":1,"d":2})");
  // Promotion into a path that does not exist attaches to the deepest existing ancestor.
  EXPECT_EQ(F(R"({"a":{"b":{"c":1}}})", {FlatmapOp::make(T::Move, {"a.b.c", "zz.c2"})}),
            R"({"a":{"b":null},"c2":1})");
  // Same depth: only the last segment is relabelled.
  EXPECT_EQ(F(R"({"a":{"b":1},"x":{}})", {FlatmapOp::make(T::Move, {"a.b", "x.c"})}),
            R"({"a":{"c":1},"x":{}})");
  // Overwrite on collision: the moved value wins.
  EXPECT_EQ(F(R"({"a":1,"b":2})", {FlatmapOp::make(T::Move, {"a", "b"})}), R"({"b":1})");
  EXPECT_EQ(F(R"({"a":1})", {FlatmapOp::make(T::Move, {"missing", "b"})}), R"({"a":1})");
}

TEST(Flatmap, MoveWithWildcardPromotion) {
  EXPECT_EQ(F(R"({"list":[{"v":{"id":1}},{"v":{"id":2}}]})",
              {FlatmapOp::make(T::Move, {"list.*.v.id", "list.*.id"})}),
            R"({"list":[{"id":1,"v":null},{"id":2,"v":null}]})");
}

TEST(Flatmap, Append) {
  EXPECT_EQ(F(R"({"y":[0,1],"z":[10]})", {FlatmapOp::make(T::Append, {"y", "z"})}), R"({"z":[10,0,1]})");
  EXPECT_EQ(F(R"({"y":[0],"z":[]})", {FlatmapOp::make(T::Append, {"y", "z"})}), R"({"z":[0]})");
  // Both sides must be arrays, otherwise nothing happens.
  EXPECT_EQ(F(R"({"y":1,"z":[1]})", {FlatmapOp::make(T::Append, {"y", "z"})}), R"({"y":1,"z":[1]})");
  EXPECT_EQ(F(R"({"y":[1]})", {FlatmapOp::make(T::Append, {"y", "z"})}), R"({"y":[1]})");
  // A wildcard source collects the matches.
  EXPECT_EQ(F(R"({"l":[{"id":1},{"id":2}],"ids":[]})", {FlatmapOp::make(T::Append, {"l.*.id", "ids"})}),
            R"({"ids":[1,2],"l":[null,null]})");
}

TEST(Flatmap, NullDataStaysNull) {
  Value v;
  apply_flatmap(v, {FlatmapOp::make(T::Move, {"a", "b"})});
  EXPECT_TRUE(v.is_null());
}

}  // namespace
}  // namespace gw::response

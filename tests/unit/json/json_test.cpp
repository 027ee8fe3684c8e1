#include "json/json.h"

#include <gtest/gtest.h>

namespace gw::json {
namespace {

Value P(std::string_view s, ParseOptions o = {}) {
  ParseError e;
  auto v = parse(s, &e, o);
  EXPECT_TRUE(v.has_value()) << s << " -> " << e.message << " at " << e.offset;
  return v ? std::move(*v) : Value();
}

std::string RoundTrip(std::string_view s) { return encode(P(s)); }

ParseError Err(std::string_view s, ParseOptions o = {}) {
  ParseError e;
  EXPECT_FALSE(parse(s, &e, o).has_value()) << s;
  return e;
}

TEST(JsonParse, Scalars) {
  EXPECT_TRUE(P("null").is_null());
  EXPECT_TRUE(P(" true ").as_bool());
  EXPECT_FALSE(P("false").as_bool());
  EXPECT_EQ(P("\"hi\"").as_string(), "hi");
  EXPECT_EQ(P("-0").number_text(), "-0");
  EXPECT_EQ(P("1.0").number_text(), "1.0");
  EXPECT_EQ(P("12345678901234567890").number_text(), "12345678901234567890");
  EXPECT_EQ(P("-3e10").number_text(), "-3e10");
  EXPECT_EQ(P("1.5E+3").number_text(), "1.5E+3");
}

TEST(JsonParse, NumbersKeepTheirLiteralWhenEncoded) {
  EXPECT_EQ(RoundTrip(R"({"a":1.0,"b":1e3,"c":-0.50,"d":123456789012345678901234567890})"),
            R"({"a":1.0,"b":1e3,"c":-0.50,"d":123456789012345678901234567890})");
}

TEST(JsonParse, StringEscapes) {
  EXPECT_EQ(P(R"("a\"b\\c\/d\b\f\n\r\t")").as_string(), "a\"b\\c/d\b\f\n\r\t");
  EXPECT_EQ(P(R"("\u00e9\u20AC")").as_string(), "\xC3\xA9\xE2\x82\xAC");
  EXPECT_EQ(P(R"("\ud83d\ude00")").as_string(), "\xF0\x9F\x98\x80");
  // Lone surrogates become U+FFFD; the following escape is still decoded.
  EXPECT_EQ(P(R"("\ud83dx")").as_string(), "\xEF\xBF\xBDx");
  EXPECT_EQ(P(R"("\ude00")").as_string(), "\xEF\xBF\xBD");
  EXPECT_EQ(P(R"("\ud83d\u0041")").as_string(),
            "\xEF\xBF\xBD"
            "A");
  // Invalid UTF-8 bytes are replaced one by one, as Go does.
  EXPECT_EQ(P("\"a\xff\xfe b\"").as_string(), "a\xEF\xBF\xBD\xEF\xBF\xBD b");
  EXPECT_EQ(P("\"\xE2\x82\"").as_string(), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(P("\"\xED\xA0\x80\"").as_string(), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // UTF-8 surrogate
  EXPECT_EQ(P("\"\xF0\x9F\x98\x80\"").as_string(), "\xF0\x9F\x98\x80");
}

TEST(JsonParse, SpecialBytesAtEveryPositionOfABlock) {
  // Strings are scanned 16 bytes at a time while a block fits in the text: a quote, an escape, a
  // non-ASCII or a control byte must stop the scan wherever it falls, in the block or in the tail.
  struct Case {
    std::string raw, decoded;
    bool valid;
  };
  const Case specials[] = {
      {"\\\"", "\"", true},           {"\\\\", "\\", true},           {"\\n", "\n", true},
      {"\xC3\xA9", "\xC3\xA9", true}, {"\xff", "\xEF\xBF\xBD", true}, {"\x01", "", false},
      {"\x7f", "\x7f", true}};
  for (std::size_t len = 0; len <= 40; ++len) {
    for (std::size_t at = 0; at <= len; ++at) {
      for (const Case& c : specials) {
        const std::string before(at, 'a'), after(len - at, 'b');
        for (const char* tail : {"", "                    "}) {  // string in the tail, or followed by a block
          const std::string text = "[\"" + before + c.raw + after + "\"]" + tail;
          ParseError e;
          auto v = parse(text, &e);
          ASSERT_EQ(v.has_value(), c.valid) << text << " -> " << e.message;
          if (c.valid) ASSERT_EQ(v->as_array()[0].as_string(), before + c.decoded + after) << text;
        }
      }
    }
  }
  EXPECT_EQ(Err("\"" + std::string(40, 'a')).message, "unexpected end of JSON input");
}

TEST(JsonParse, DuplicateKeysLastWinsInPlace) {
  Value v = P(R"({"a":1,"b":2,"a":3})");
  ASSERT_EQ(v.as_object().size(), 2u);
  EXPECT_EQ(v.as_object()[0].first, "a");
  EXPECT_EQ(v.as_object()[0].second.number_text(), "3");
  std::string big = "{";
  for (int i = 0; i < 40; ++i) big += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  big += "\"k7\":\"x\"}";
  Value b = P(big);
  EXPECT_EQ(b.as_object().size(), 40u);
  EXPECT_EQ(b.find("k7")->as_string(), "x");
  EXPECT_EQ(b.as_object()[7].first, "k7");
}

// Containers are handed over whole from per-depth scratch that keeps room for the next sibling:
// siblings of every size, nested at every depth, must each keep exactly their own elements.
TEST(JsonParse, SiblingsOfEverySizeKeepTheirOwnElements) {
  std::string text = "[";
  for (int n : {3, 1, 5, 0, 100, 2, 0, 70, 1}) {
    std::string obj = "{", arr = "[";
    for (int i = 0; i < n; ++i) {
      const std::string key = "k" + std::to_string(1000 + i);
      obj += (i ? "," : "") + std::string("\"") + key + "\":[" + std::to_string(i) +
             ",{\"x\":" + std::to_string(n) + "}]";
      arr += (i ? "," : "") + std::to_string(i);
    }
    obj += "}";
    arr += "]";
    text += (text.size() > 1 ? "," : "") + obj + "," + arr;
  }
  text += "]";
  auto v = parse(text);
  ASSERT_TRUE(v);
  EXPECT_EQ(encode(*v), text) << "keys were written sorted, so the encoding must match the input";
  const Array& all = v->as_array();
  ASSERT_EQ(all.size(), 18u);
  EXPECT_EQ(all[8].as_object().size(), 100u);
  EXPECT_EQ(all[9].as_array().size(), 100u);
  EXPECT_EQ(all[16].as_object().size(), 1u);
  EXPECT_EQ(all[6].as_object().size(), 0u);
}

TEST(JsonParse, Offsets) {
  std::string_view text = "{\n  \"a\": [1, {\"b\": true}]\n}";
  Value v = P(text);
  EXPECT_EQ(v.offset(), 0u);
  const Value* a = v.find("a");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->offset(), text.find('['));
  EXPECT_EQ(a->as_array()[1].offset(), text.find("{\"b\""));
  EXPECT_EQ(a->as_array()[1].find("b")->offset(), text.find("true"));
  auto [line, col] = line_column(text, a->offset());
  EXPECT_EQ(line, 2u);
  EXPECT_EQ(col, 8u);
}

TEST(JsonParse, Errors) {
  auto e = Err("{\n  \"a\": 1,\n}");
  EXPECT_EQ(e.message, "invalid character '}' looking for beginning of object key string");
  EXPECT_EQ(e.line, 3u);
  EXPECT_EQ(e.column, 1u);
  EXPECT_EQ(e.offset, 12u);
  EXPECT_EQ(Err("").message, "unexpected end of JSON input");
  EXPECT_EQ(Err("{\"a\":").message, "unexpected end of JSON input");
  EXPECT_EQ(Err("\"abc").message, "unexpected end of JSON input");
  EXPECT_EQ(Err("[1 2]").message, "invalid character '2' after array element");
  EXPECT_EQ(Err("{\"a\" 1}").message, "invalid character '1' after object key");
  EXPECT_EQ(Err("{\"a\":1 \"b\"}").message, "invalid character '\"' after object key:value pair");
  EXPECT_EQ(Err("tru").message, "unexpected end of JSON input");
  EXPECT_EQ(Err("trux").message, "invalid character 'x' in literal true (expecting 'e')");
  EXPECT_EQ(Err("01").message, "invalid character '1' after top-level value");
  EXPECT_EQ(Err("-a").message, "invalid character 'a' in numeric literal");
  EXPECT_EQ(Err("1.e5").message, "invalid character 'e' after decimal point in numeric literal");
  EXPECT_EQ(Err("1e+").message, "unexpected end of JSON input");
  EXPECT_EQ(Err("\"a\nb\"").message, "invalid character '\\n' in string literal");
  EXPECT_EQ(Err("\"\\x\"").message, "invalid character 'x' in string escape code");
  EXPECT_EQ(Err("\"\\u12g4\"").message, "invalid character 'g' in \\u hexadecimal character escape");
  EXPECT_EQ(Err("{} {}").message, "invalid character '{' after top-level value");
  EXPECT_EQ(Err("'a'").message, "invalid character '\\'' looking for beginning of value");
  EXPECT_EQ(Err("[1,]").message, "invalid character ']' looking for beginning of value");
  EXPECT_EQ(Err("NaN").message, "invalid character 'N' looking for beginning of value");
}

TEST(JsonParse, DepthLimit) {
  std::string deep(600, '[');
  deep += std::string(600, ']');
  EXPECT_EQ(Err(deep).message, "exceeded max depth");
  ParseOptions o;
  o.max_depth = 1000;
  EXPECT_TRUE(parse(deep, nullptr, o).has_value());
  o.max_depth = 2;
  EXPECT_TRUE(parse("[[1]]", nullptr, o).has_value());
  EXPECT_FALSE(parse("[[[1]]]", nullptr, o).has_value());
}

TEST(JsonParse, AllowTrailingReadsFirstValue) {
  ParseOptions o;
  o.allow_trailing = true;
  EXPECT_EQ(encode(P(R"({"a":1} trailing garbage {)", o)), R"({"a":1})");
  EXPECT_EQ(encode(P("{\"a\":1}{\"b\":2}", o)), R"({"a":1})");
  EXPECT_EQ(P("123abc", o).number_text(), "123");
  EXPECT_FALSE(parse("   ", nullptr, o).has_value());
  EXPECT_FALSE(parse("{\"a\":", nullptr, o).has_value());
}

TEST(JsonEncode, SortedKeysAtEveryLevel) {
  EXPECT_EQ(RoundTrip(R"({"b":1,"a":{"z":[{"y":1,"x":2}],"B":null,"a":true}})"),
            R"({"a":{"B":null,"a":true,"z":[{"x":2,"y":1}]},"b":1})");
  // Byte order, not locale: uppercase < lowercase, multibyte after ASCII.
  EXPECT_EQ(RoundTrip(R"({"é":1,"z":2,"Z":3,"_":4,"10":5,"9":6})"),
            "{\"10\":5,\"9\":6,\"Z\":3,\"_\":4,\"z\":2,\"\xC3\xA9\":1}");
  EXPECT_EQ(RoundTrip("{}"), "{}");
  EXPECT_EQ(RoundTrip("[]"), "[]");
  EXPECT_EQ(RoundTrip(" [ 1 , \"x\" , null ] "), "[1,\"x\",null]");
}

TEST(JsonEncode, PlainStringsAppendAfterWhatIsThere) {
  // The no-escape fast path and the escaping path both append: output already in `out` stays.
  std::string out = "[";
  encode_string("", out);
  out += ',';
  encode_string("plain text", out);
  out += ',';
  encode_string("ends with <", out);
  EXPECT_EQ(out, R"(["","plain text","ends with \u003c")");
}

TEST(JsonEncode, GoStringEscaping) {
  std::string out;
  encode_string("<a href=\"x\">&amp;</a>", out);
  EXPECT_EQ(out, R"("\u003ca href=\"x\"\u003e\u0026amp;\u003c/a\u003e")");
  out.clear();
  encode_string(std::string("\x00\x01\x1f\b\f\n\r\t\x7f/\\", 11), out);
  EXPECT_EQ(out, "\"\\u0000\\u0001\\u001f\\b\\f\\n\\r\\t\x7f/\\\\\"");
  out.clear();
  encode_string("\xE2\x80\xA8-\xE2\x80\xA9-\xE2\x80\xAA", out);
  EXPECT_EQ(out, "\"\\u2028-\\u2029-\xE2\x80\xAA\"");
  out.clear();
  encode_string("ok\xff\xC3(\xF0\x9F\x98\x80", out);
  EXPECT_EQ(out, "\"ok\\ufffd\\ufffd(\xF0\x9F\x98\x80\"");
  EXPECT_EQ(encode(Value("<key>")), R"("\u003ckey\u003e")");
  Value o = Value::object();
  o.set("<k>", Value(true));
  EXPECT_EQ(encode(o), R"({"\u003ck\u003e":true})");
}

TEST(JsonEncode, KeepOrderObjectsAreNotSorted) {
  Value s = Value::object();
  s.set("z", Value::number(1));
  s.set("a", Value("x"));
  s.set_keep_order(true);
  Value root = Value::object();
  root.set("b", std::move(s));
  root.set("a", Value::number(2));
  EXPECT_EQ(encode(root), R"({"a":2,"b":{"z":1,"a":"x"}})");
}

TEST(JsonValue, Helpers) {
  Value v;
  v.set("a", Value::number(1));
  v.set("b", Value("x"));
  v.set("a", Value(false));
  EXPECT_EQ(v.as_object()[0].first, "a");
  EXPECT_FALSE(v.find("a")->as_bool());
  EXPECT_TRUE(v.erase("a"));
  EXPECT_FALSE(v.erase("a"));
  EXPECT_EQ(v.find("a"), nullptr);
  EXPECT_EQ(Value(1.5 > 1).find("x"), nullptr);
  EXPECT_EQ(P(R"({"a":1,"b":[1,2]})"), P(R"({"b":[1,2],"a":1})"));
  EXPECT_FALSE(P(R"({"a":1})") == P(R"({"a":1.0})"));
}

TEST(JsonRoundTrip, ParseEncodeParseIsStable) {
  const char* docs[] = {
      R"({"user":{"name":"Elliot","tags":["a","b"],"n":-1.25e-3,"ok":true,"nil":null}})",
      R"([{"a":"\u003c\u0026\u003e"},"\ud83d\ude00",[[[]]],{}])",
      "\"\\u2028\\u2029\"",
  };
  for (const char* d : docs) {
    std::string once = RoundTrip(d);
    EXPECT_EQ(RoundTrip(once), once) << d;
    EXPECT_EQ(P(once), P(d)) << d;
  }
}

}  // namespace
}  // namespace gw::json

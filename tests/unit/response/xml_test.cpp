// Backend encoding "xml": mxj's map layout as krakend-xml returns it, Go encoding/xml's errors, bounds.
#include <gtest/gtest.h>

#include "response/response.h"

namespace gw::response {
namespace {

using json::Value;

// The encoded result, or "ERR:" + the error text.
std::string X(std::string_view xml, const XmlLimits& limits = {}) {
  Value v;
  std::string error;
  if (!decode_xml(xml, v, error, limits)) return "ERR:" + error;
  return json::encode(v);
}

constexpr std::string_view kCeUser = R"(<?xml version="1.0" encoding="UTF-8"?>
<user type="admin">
  <name>Elliot</name>
  <social>
    <facebook>https://facebook.com</facebook>
    <twitter>https://twitter.com</twitter>
    <youtube>https://youtube.com</youtube>
  </social>
</user>)";

TEST(Xml, KrakendCeBackendDocument) {
  // krakend-ce tests/integration.go xmlEndpoint, expected as in specs/negotitate_json.json
  EXPECT_EQ(X(kCeUser),
            R"({"user":{"-type":"admin","name":"Elliot","social":{"facebook":"https://facebook.com",)"
            R"("twitter":"https://twitter.com","youtube":"https://youtube.com"}}})");
}

TEST(Xml, KrakendCeRoundTrips) {
  BackendShaping s;
  s.encoding = "xml";
  Value v;
  std::string error;
  ASSERT_TRUE(decode(kCeUser, s, v, error)) << error;
  // specs/xml_1.json (output_encoding xml), negotitate_json.json and negotitate_plain.json
  EXPECT_EQ(render("xml", &v, "").body,
            "<user type=\"admin\"><name>Elliot</name><social><facebook>https://facebook.com</facebook>"
            "<twitter>https://twitter.com</twitter><youtube>https://youtube.com</youtube></social></user>");
  EXPECT_EQ(render("negotiate", &v, "application/json; charset=utf-8").body,
            R"({"user":{"-type":"admin","name":"Elliot","social":{"facebook":"https://facebook.com",)"
            R"("twitter":"https://twitter.com","youtube":"https://youtube.com"}}})");
  EXPECT_EQ(render("negotiate", &v, "text/plain").body,
            "user:\n  -type: admin\n  name: Elliot\n  social:\n    facebook: https://facebook.com\n"
            "    twitter: https://twitter.com\n    youtube: https://youtube.com\n");
}

TEST(Xml, CollectionWrapsTheWholeMap) {
  BackendShaping s;
  s.encoding = "xml";
  s.is_collection = true;
  Value v;
  std::string error;
  ASSERT_TRUE(decode("<a><b>1</b></a>", s, v, error));
  EXPECT_EQ(json::encode(v), R"({"collection":{"a":{"b":"1"}}})");
  EXPECT_FALSE(decode("", s, v, error));
  EXPECT_EQ(error, "EOF");
}

TEST(Xml, ValuesStayStrings) {
  EXPECT_EQ(X("<a><n>42</n><f>1.5</f><b>true</b><e/><s></s></a>"),
            R"({"a":{"b":"true","e":"","f":"1.5","n":"42","s":""}})");
  EXPECT_EQ(X("<a>x</a>"), R"({"a":"x"})");
  EXPECT_EQ(X("<a/>"), R"({"a":""})");
}

TEST(Xml, AttributesAndText) {
  EXPECT_EQ(X(R"(<a id="1" x='2'>t</a>)"), R"({"a":{"#text":"t","-id":"1","-x":"2"}})");
  EXPECT_EQ(X(R"(<a id="1"/>)"), R"({"a":{"-id":"1"}})");
  EXPECT_EQ(X(R"(<a id="1" id="2"/>)"), R"({"a":{"-id":"2"}})");  // Go keeps both; the map the last
  EXPECT_EQ(X(R"(<a x="1"y="2"/>)"), R"({"a":{"-x":"1","-y":"2"}})");
  EXPECT_EQ(X("<a x = \"a\r\nb\tc\"/>"), "{\"a\":{\"-x\":\"a\\nb\\tc\"}}");  // no value normalisation
}

TEST(Xml, MixedContentKeepsMxjQuirks) {
  EXPECT_EQ(X("<a>x<b/></a>"), R"({"a":{"#text":"x","b":""}})");
  EXPECT_EQ(X("<a><b/>y</a>"), R"({"a":{"#text":"y","b":""}})");
  EXPECT_EQ(X("<a>x<b/>y<c/>z</a>"), R"({"a":{"#text":"x","b":"","c":""}})");  // first text wins
  EXPECT_EQ(X("<a>x<!-- c -->y</a>"), R"({"a":"y"})");                         // last piece wins
}

TEST(Xml, RepeatedElementsBecomeLists) {
  EXPECT_EQ(X("<r><i>1</i><i>2</i><j/><i><k>3</k></i></r>"), R"({"r":{"i":["1","2",{"k":"3"}],"j":""}})");
  EXPECT_EQ(X("<r><i><x>1</x></i><i><x>2</x><x>3</x></i></r>"), R"({"r":{"i":[{"x":"1"},{"x":["2","3"]}]}})");
  std::string many = "<r>";
  for (int i = 0; i < 100; ++i) many += "<e" + std::to_string(i % 40) + "/>";
  many += "</r>";
  Value v;
  std::string error;
  ASSERT_TRUE(decode_xml(many, v, error));
  const Value& r = *v.find("r");
  EXPECT_EQ(r.as_object().size(), 40u);
  EXPECT_EQ(r.find("e0")->as_array().size(), 3u);
  EXPECT_EQ(r.find("e39")->as_array().size(), 2u);
}

TEST(Xml, NamespacePrefixesAreDropped) {
  EXPECT_EQ(
      X(R"(<s:Env xmlns:s="urn:s" xmlns="urn:d" xml:lang="en"><s:Body><m:x xmlns:m="u">1</m:x></s:Body></s:Env>)"),
      R"({"Env":{"-lang":"en","-s":"urn:s","-xmlns":"urn:d","Body":{"x":{"#text":"1","-m":"u"}}}})");
  EXPECT_EQ(X("<a><p:i>1</p:i><q:i>2</q:i></a>"), R"({"a":{"i":["1","2"]}})");
  EXPECT_EQ(X("<:a/>"), R"({":a":""})");
  EXPECT_EQ(X("<a:b:c/>"),
            "ERR:xml.Decoder.Token() - XML syntax error on line 1: expected element name after <");
  EXPECT_EQ(X("<p:a></q:a>"),
            "ERR:xml.Decoder.Token() - XML syntax error on line 1: element <a> in space p closed by </a> in "
            "space q");
}

TEST(Xml, EntitiesCdataAndWhitespace) {
  EXPECT_EQ(X("<a>&lt;&gt;&amp;&apos;&quot; &#65;&#x42;&#x1F600;</a>"),
            "{\"a\":\"\\u003c\\u003e\\u0026'\\\" AB😀\"}");
  EXPECT_EQ(X("<a>&#xD800;</a>"), "{\"a\":\"\xEF\xBF\xBD\"}");
  EXPECT_EQ(X("<a><![CDATA[ <b>&amp; ]]></a>"), "{\"a\":\"\\u003cb\\u003e\\u0026amp;\"}");
  EXPECT_EQ(X("<a>\n\t  two  words \r\n</a>"), R"({"a":"two  words"})");
  EXPECT_EQ(X("<a>l1\r\nl2\rl3</a>"), R"({"a":"l1\nl2\nl3"})");
  EXPECT_EQ(X("<a>   </a>"), R"({"a":""})");
}

TEST(Xml, PrologAndTrailingContent) {
  EXPECT_EQ(X("\xEF\xBB\xBFstray <!DOCTYPE a [<!ENTITY e \"boom\"> <!-- > -->]><!-- c --><?pi x?><a/>"),
            R"({"a":""})");
  EXPECT_EQ(X("<a/><b/>garbage <<<"), R"({"a":""})");  // nothing after the root is read
  EXPECT_EQ(X("<?xml version=\"1.1\"?><a/>"),
            "ERR:xml.Decoder.Token() - xml: unsupported version \"1.1\"; only version 1.0 is supported");
  EXPECT_EQ(X("<?xml version='1.0' encoding='ISO-8859-1'?><a>caf\xE9 \x80</a>"), R"({"a":"café €"})");
  EXPECT_EQ(X("<?xml version=\"1.0\" encoding=\"utf8\"?><a/>"), R"({"a":""})");
  EXPECT_EQ(X("<?xml version=\"1.0\" encoding=\"EBCDIC\"?><a/>"),
            "ERR:xml.Decoder.Token() - xml: opening charset \"EBCDIC\": unsupported charset: \"EBCDIC\"");
}

TEST(Xml, DtdEntitiesAreNotExpanded) {
  EXPECT_EQ(X("<!DOCTYPE a [<!ENTITY e \"boom\">]><a>&e;</a>"),
            "ERR:xml.Decoder.Token() - XML syntax error on line 1: invalid character entity &e;");
}

TEST(Xml, MalformedLikeGo) {
  const std::string p = "ERR:xml.Decoder.Token() - XML syntax error on line ";
  EXPECT_EQ(X(""), "ERR:EOF");
  EXPECT_EQ(X("  just text "), "ERR:EOF");
  EXPECT_EQ(X("<a>\n<b>"), p + "2: unexpected EOF");
  EXPECT_EQ(X("<a></b>"), p + "1: element <a> closed by </b>");
  EXPECT_EQ(X("</a>"), p + "1: unexpected end element </a>");
  EXPECT_EQ(X("<a x=1/>"), p + "1: unquoted or missing attribute value in element");
  EXPECT_EQ(X("<a x/>"), p + "1: attribute name without = in element");
  EXPECT_EQ(X("<a x=\"<\"/>"), p + "1: unescaped < inside quoted string");
  EXPECT_EQ(X("<a>&bogus</a>"), p + "1: invalid character entity &bogus (no semicolon)");
  EXPECT_EQ(X("<a>&#;</a>"), p + "1: invalid character entity &#;");
  EXPECT_EQ(X("<a>&#x110000;</a>"), p + "1: invalid character entity &#x110000;");
  EXPECT_EQ(X("<a>&#0;</a>"), p + "1: illegal character code U+0000");
  EXPECT_EQ(X("<a>\x01</a>"), p + "1: illegal character code U+0001");
  EXPECT_EQ(X("<a>\xff</a>"), p + "1: invalid UTF-8");
  EXPECT_EQ(X("<a>]]></a>"), p + "1: unescaped ]]> not in CDATA section");
  EXPECT_EQ(X("<a><!-- -- --></a>"), p + "1: invalid sequence \"--\" not allowed in comments");
  EXPECT_EQ(X("<a><![CDATX[x]]></a>"), p + "1: invalid <![ sequence");
  EXPECT_EQ(X("<a><![CDATA[x</a>"), p + "1: unexpected EOF in CDATA section");
  EXPECT_EQ(X("<1a/>"), p + "1: invalid XML name: 1a");
  EXPECT_EQ(X("< a/>"), p + "1: expected element name after <");
  EXPECT_EQ(X("<a></a x>"), p + "1: invalid characters between </a and >");
  EXPECT_EQ(X("<a/ >"), p + "1: expected /> in element");
}

TEST(Xml, Bounds) {
  XmlLimits small;
  small.max_depth = 3;
  small.max_bytes = 64;
  EXPECT_EQ(X("<a><b><c/></b></a>", small), R"({"a":{"b":{"c":""}}})");
  EXPECT_EQ(X("<a><b><c><d/></c></b></a>", small),
            "ERR:xml.Decoder.Token() - xml: elements nested deeper than 3");
  EXPECT_EQ(X(std::string(65, ' ') + "<a/>", small), "ERR:xml: body of 69 bytes is over the 64-byte limit");
  // The default depth bound: deep documents fail cleanly instead of exhausting anything.
  std::string deep;
  for (int i = 0; i < 5000; ++i) deep += "<d>";
  EXPECT_EQ(X(deep), "ERR:xml.Decoder.Token() - xml: elements nested deeper than 4096");
}

}  // namespace
}  // namespace gw::response

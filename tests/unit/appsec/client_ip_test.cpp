// resolve_client_ip: docs/datadog-appsec.md section 7.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "appsec/appsec.h"

namespace gw::appsec {
namespace {

struct Case {
  const char* name;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string peer;
  std::string override_header;
  std::string want;
};

std::string resolve(const Case& c) {
  std::vector<Field> fields;
  for (const auto& [n, v] : c.headers) fields.push_back({n, v});
  return resolve_client_ip(fields, c.peer, c.override_header);
}

TEST(ClientIp, Table) {
  const std::vector<Case> cases = {
      // Single headers, each of the list, any case.
      {"xff", {{"X-Forwarded-For", "8.8.8.8"}}, "10.0.0.1", "", "8.8.8.8"},
      {"x-real-ip", {{"x-real-ip", "8.8.4.4"}}, "", "", "8.8.4.4"},
      {"true-client-ip", {{"TRUE-CLIENT-IP", "1.1.1.1"}}, "", "", "1.1.1.1"},
      {"x-client-ip", {{"X-Client-Ip", "1.0.0.1"}}, "", "", "1.0.0.1"},
      {"x-forwarded", {{"X-Forwarded", "for=9.9.9.9"}}, "", "", "9.9.9.9"},
      {"forwarded", {{"Forwarded", "for=9.9.9.10;proto=https"}}, "", "", "9.9.9.10"},
      {"forwarded-for", {{"Forwarded-For", "9.9.9.11"}}, "", "", "9.9.9.11"},
      {"x-cluster-client-ip", {{"X-Cluster-Client-IP", "9.9.9.12"}}, "", "", "9.9.9.12"},
      {"fastly-client-ip", {{"Fastly-Client-IP", "9.9.9.13"}}, "", "", "9.9.9.13"},
      {"cf-connecting-ip", {{"CF-Connecting-IP", "9.9.9.14"}}, "", "", "9.9.9.14"},
      {"cf-connecting-ipv6", {{"CF-Connecting-IPv6", "2001:4860::8888"}}, "", "", "2001:4860::8888"},
      {"unknown header ignored", {{"X-Originating-IP", "8.8.8.8"}}, "10.0.0.1", "", "10.0.0.1"},

      // Header order: the list order, not the request order.
      {"order", {{"cf-connecting-ip", "5.5.5.5"}, {"x-real-ip", "6.6.6.6"}}, "", "", "6.6.6.6"},
      {"public later header beats private earlier",
       {{"x-forwarded-for", "10.1.1.1"}, {"x-real-ip", "7.7.7.7"}},
       "",
       "",
       "7.7.7.7"},
      {"repeated header instances",
       {{"X-Forwarded-For", "10.0.0.2"}, {"x-forwarded-for", "4.4.4.4"}},
       "",
       "",
       "4.4.4.4"},

      // Lists and ports.
      {"first public in list",
       {{"x-forwarded-for", "10.0.0.1, 192.168.1.1, 3.3.3.3, 4.4.4.4"}},
       "",
       "",
       "3.3.3.3"},
      {"v4 with port", {{"x-forwarded-for", "1.2.3.4:80"}}, "", "", "1.2.3.4"},
      {"v6 bracket port", {{"x-forwarded-for", "[2001:db8::1]:443"}}, "", "", "2001:db8::1"},
      {"v6 brackets no port", {{"x-forwarded-for", "[2001:db8::2]"}}, "", "", "2001:db8::2"},
      {"v6 bare", {{"x-forwarded-for", "2001:0db8:0000::0003"}}, "", "", "2001:db8::3"},
      {"quoted entry in list", {{"x-forwarded-for", "\"5.6.7.8\""}}, "", "", "5.6.7.8"},
      {"spaces and tabs", {{"x-forwarded-for", " \t 5.6.7.9 \t,"}}, "", "", "5.6.7.9"},

      // Forwarded syntax.
      {"forwarded quoted v6 port", {{"forwarded", "for=\"[2001:db8::1]:4711\""}}, "", "", "2001:db8::1"},
      {"forwarded several",
       {{"forwarded", "for=10.0.0.5, for=198.51.100.17;by=203.0.113.60"}},
       "",
       "",
       "198.51.100.17"},
      {"forwarded key case", {{"forwarded", "proto=http;FOR=198.51.100.18"}}, "", "", "198.51.100.18"},
      {"forwarded only for=", {{"forwarded", "by=198.51.100.1;host=8.8.8.8"}}, "10.9.9.9", "", "10.9.9.9"},
      {"forwarded obfuscated",
       {{"forwarded", "for=_hidden, for=unknown, for=198.51.100.19"}},
       "",
       "",
       "198.51.100.19"},
      {"forwarded quoted with comma",
       {{"forwarded", "for=\"x,y\";proto=a, for=198.51.100.20"}},
       "",
       "",
       "198.51.100.20"},
      {"forwarded v4 port", {{"x-forwarded", "for=198.51.100.21:8080"}}, "", "", "198.51.100.21"},
      {"forwarded unterminated quote", {{"forwarded", "for=\"198.51.100.22"}}, "10.0.0.3", "", "10.0.0.3"},

      // IPv4-mapped IPv6 counts and is reported as IPv4.
      {"mapped public", {{"x-forwarded-for", "::ffff:8.8.8.8"}}, "", "", "8.8.8.8"},
      {"mapped private", {{"x-forwarded-for", "::ffff:10.0.0.1"}}, "", "", "10.0.0.1"},
      {"mapped bracketed", {{"x-forwarded-for", "[::ffff:1.2.3.4]:80"}}, "", "", "1.2.3.4"},
      {"mapped peer", {}, "::ffff:93.184.216.34", "", "93.184.216.34"},

      // Private ranges: every range stays behind a public peer.
      {"10/8", {{"x-forwarded-for", "10.255.255.255"}}, "8.8.8.8", "", "8.8.8.8"},
      {"172.16/12 low", {{"x-forwarded-for", "172.16.0.1"}}, "8.8.8.8", "", "8.8.8.8"},
      {"172.16/12 high", {{"x-forwarded-for", "172.31.255.255"}}, "8.8.8.8", "", "8.8.8.8"},
      {"172.32 public", {{"x-forwarded-for", "172.32.0.1"}}, "8.8.8.8", "", "172.32.0.1"},
      {"172.15 public", {{"x-forwarded-for", "172.15.255.255"}}, "8.8.8.8", "", "172.15.255.255"},
      {"192.168/16", {{"x-forwarded-for", "192.168.0.1"}}, "8.8.8.8", "", "8.8.8.8"},
      {"127/8", {{"x-forwarded-for", "127.1.2.3"}}, "8.8.8.8", "", "8.8.8.8"},
      {"169.254/16", {{"x-forwarded-for", "169.254.1.1"}}, "8.8.8.8", "", "8.8.8.8"},
      {"100.64/10", {{"x-forwarded-for", "100.127.255.255"}}, "8.8.8.8", "", "8.8.8.8"},
      {"100.128 public", {{"x-forwarded-for", "100.128.0.1"}}, "8.8.8.8", "", "100.128.0.1"},
      {"::1", {{"x-forwarded-for", "::1"}}, "8.8.8.8", "", "8.8.8.8"},
      {"fe80::/10", {{"x-forwarded-for", "febf::1"}}, "8.8.8.8", "", "8.8.8.8"},
      {"fec0::/10", {{"x-forwarded-for", "fec0::1"}}, "8.8.8.8", "", "8.8.8.8"},
      {"fc00::/7", {{"x-forwarded-for", "fd12:3456::1"}}, "8.8.8.8", "", "8.8.8.8"},
      {"fc00::/7 low", {{"x-forwarded-for", "fc00::1"}}, "8.8.8.8", "", "8.8.8.8"},
      {"2a00 public v6", {{"x-forwarded-for", "2a00:1450::1"}}, "8.8.8.8", "", "2a00:1450::1"},

      // Fallbacks: public peer, then first private header address, then private peer.
      {"public peer over private header", {{"x-forwarded-for", "10.0.0.1"}}, "9.9.9.9", "", "9.9.9.9"},
      {"first private header over private peer",
       {{"x-forwarded-for", "192.168.0.9, 10.0.0.1"}, {"x-real-ip", "10.0.0.2"}},
       "127.0.0.1",
       "",
       "192.168.0.9"},
      {"private peer", {}, "10.1.2.3", "", "10.1.2.3"},
      {"v6 peer", {}, "2001:db8::9", "", "2001:db8::9"},
      {"nothing", {}, "", "", ""},
      {"garbage peer", {}, "not-an-ip", "", ""},

      // Invalid entries are skipped.
      {"garbage entries",
       {{"x-forwarded-for", "garbage, 1.2.3, 256.1.1.1, ::g, , 5.5.5.6"}},
       "",
       "",
       "5.5.5.6"},
      {"bad port", {{"x-forwarded-for", "1.2.3.4:http, 1.2.3.5:123456, 1.2.3.6:99"}}, "", "", "1.2.3.6"},
      {"bracket junk",
       {{"x-forwarded-for", "[::1, [2001:db8::1]x, []:80, [1.2.3.4]:80"}},
       "10.0.0.7",
       "",
       "10.0.0.7"},
      {"zone id", {{"x-forwarded-for", "fe80::1%eth0"}}, "10.0.0.8", "", "10.0.0.8"},
      {"binary junk", {{"x-forwarded-for", std::string("\0\xff\x01,7.7.7.8", 11)}}, "", "", "7.7.7.8"},
      {"huge entry", {{"x-forwarded-for", std::string(10000, '1') + ",7.7.7.9"}}, "", "", "7.7.7.9"},
      {"only commas", {{"x-forwarded-for", ",,,,,"}}, "10.0.0.10", "", "10.0.0.10"},

      // Override header: only that header counts (name compared case-insensitively).
      {"override list",
       {{"X-My-IP", "10.0.0.1, 6.6.6.7"}, {"x-forwarded-for", "8.8.8.8"}},
       "",
       "x-my-ip",
       "6.6.6.7"},
      {"override forwarded", {{"x-my-ip", "for=\"[2001:db8::5]:1\""}}, "", "x-my-ip", "2001:db8::5"},
      {"override ignores the standard list",
       {{"x-forwarded-for", "8.8.8.8"}},
       "10.0.0.4",
       "x-my-ip",
       "10.0.0.4"},
      {"override private beats private peer",
       {{"x-my-ip", "192.168.9.9"}},
       "10.0.0.4",
       "x-my-ip",
       "192.168.9.9"},
      {"override private loses to public peer",
       {{"x-my-ip", "192.168.9.9"}},
       "4.3.2.1",
       "x-my-ip",
       "4.3.2.1"},
      {"override absent, no peer", {{"x-forwarded-for", "8.8.8.8"}}, "", "x-my-ip", ""},
  };
  for (const Case& c : cases) EXPECT_EQ(resolve(c), c.want) << c.name;
}

TEST(ClientIp, ThousandEntries) {
  std::string list;
  for (int i = 0; i < 1000; ++i)
    list += "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ", ";
  const std::string with_public = list + "203.0.113.9";
  std::vector<Field> fields = {{"X-Forwarded-For", with_public}};
  EXPECT_EQ(resolve_client_ip(fields, "127.0.0.1", ""), "203.0.113.9");
  fields = {{"X-Forwarded-For", list}};
  EXPECT_EQ(resolve_client_ip(fields, "127.0.0.1", ""), "10.0.0.0");
  std::string garbage;
  for (int i = 0; i < 1000; ++i) garbage += "x,";
  const std::string forwarded = garbage + "for=203.0.113.10";  // Field holds views: keep it alive
  fields = {{"Forwarded", forwarded}};
  EXPECT_EQ(resolve_client_ip(fields, "", ""), "203.0.113.10");
}

}  // namespace
}  // namespace gw::appsec

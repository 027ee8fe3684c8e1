#include <gtest/gtest.h>
#include <zlib.h>

#include "response/response.h"

namespace gw::response {
namespace {

std::string gzip(std::string_view in) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, in.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

TEST(Gunzip, RoundTripsBigAndSmallBodies) {
  std::string out, error;
  ASSERT_TRUE(gunzip(gzip(R"({"a":1})"), out, 1 << 20, error)) << error;
  EXPECT_EQ(out, R"({"a":1})");
  std::string big;
  for (int i = 0; i < 100000; ++i) big += "{\"k\":" + std::to_string(i) + "},";
  ASSERT_TRUE(gunzip(gzip(big), out, 64 << 20, error)) << error;
  EXPECT_EQ(out, big);
  ASSERT_TRUE(gunzip(gzip(""), out, 10, error)) << error;
  EXPECT_EQ(out, "");
}

TEST(Gunzip, ConcatenatedMembersAreOneBodyLikeGo) {
  std::string out, error;
  ASSERT_TRUE(gunzip(gzip("{\"a\":") + gzip("1}"), out, 1 << 20, error)) << error;
  EXPECT_EQ(out, R"({"a":1})");
}

TEST(Gunzip, BadStreamsFailWithGoLikeMessages) {
  std::string out, error;
  EXPECT_FALSE(gunzip(R"({"a":1})", out, 1 << 20, error));
  EXPECT_EQ(error, "gzip: invalid header");
  const std::string whole = gzip(std::string(5000, 'x'));
  EXPECT_FALSE(gunzip(whole.substr(0, whole.size() / 2), out, 1 << 20, error));
  EXPECT_EQ(error, "unexpected EOF");
  EXPECT_FALSE(gunzip(whole + "trailing", out, 1 << 20, error));
  EXPECT_EQ(error, "gzip: invalid header");
}

TEST(Gunzip, ABombStopsAtTheLimit) {
  std::string out, error;
  const std::string bomb = gzip(std::string(10 << 20, '\0'));  // ~10 KB that inflates to 10 MiB
  EXPECT_FALSE(gunzip(bomb, out, 1 << 20, error));
  EXPECT_NE(error.find("once decompressed"), std::string::npos) << error;
  EXPECT_LE(out.size(), (1u << 20) + 1);
}

}  // namespace
}  // namespace gw::response

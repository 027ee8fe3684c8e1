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

// The streaming reader (no-op endpoints) decodes the same bytes however the input is split.
TEST(Gunzip, StreamedPiecesDecodeLikeTheWholeBody) {
  std::string big;
  for (int i = 0; i < 20000; ++i) big += "{\"k\":" + std::to_string(i) + "},";
  const std::string zipped = gzip(big) + gzip("tail");  // two members, split anywhere
  for (std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{4096}, zipped.size()}) {
    Gunzip g;
    std::string out, error;
    for (std::size_t at = 0; at < zipped.size(); at += piece) {
      g.input(std::string_view(zipped).substr(at, piece));
      while (!g.used_up()) {
        std::string slice;
        ASSERT_TRUE(g.read(slice, 1000, error)) << error;
        EXPECT_LE(slice.size(), 1000u) << "output comes in bounded slices";
        out += slice;
      }
    }
    ASSERT_TRUE(g.finish(error)) << error;
    EXPECT_EQ(out, big + "tail") << "piece " << piece;
  }
}

TEST(Gunzip, StreamedErrors) {
  const std::string whole = gzip(std::string(5000, 'x'));
  Gunzip truncated;
  std::string out, error;
  truncated.input(std::string_view(whole).substr(0, whole.size() / 2));
  ASSERT_TRUE(truncated.read(out, 1 << 20, error));
  EXPECT_TRUE(truncated.used_up());
  EXPECT_FALSE(truncated.finish(error));
  EXPECT_EQ(error, "unexpected EOF");

  Gunzip not_gzip;
  not_gzip.input("plain text");
  EXPECT_FALSE(not_gzip.read(out, 1 << 20, error));
  EXPECT_EQ(error, "gzip: invalid header");

  Gunzip nothing;
  EXPECT_FALSE(nothing.finish(error)) << "an empty body is not a gzip stream";
}

}  // namespace
}  // namespace gw::response

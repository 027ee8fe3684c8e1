#include <gtest/gtest.h>

#include "server/server.h"

namespace gw::server {
namespace {

TEST(ClientAddress, V4MappedClientsShowTheirIPv4Address) {
  using boost::asio::ip::make_address;
  EXPECT_EQ(client_address(make_address("::ffff:127.0.0.1")), "127.0.0.1");
  EXPECT_EQ(client_address(make_address("::ffff:10.1.2.3")), "10.1.2.3");
  EXPECT_EQ(client_address(make_address("10.1.2.3")), "10.1.2.3");
  EXPECT_EQ(client_address(make_address("::1")), "::1");
  EXPECT_EQ(client_address(make_address("2001:db8::7")), "2001:db8::7");
}

}  // namespace
}  // namespace gw::server

#include "telemetry/metrics_server.h"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>

#include "metrics_test_util.h"

namespace gw::telemetry {
namespace {

namespace http = boost::beast::http;

http::response<http::string_body> get(std::uint16_t port, const std::string& target) {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket s(ioc);
  s.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  http::write(s, req);
  boost::beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(s, buf, res);
  return res;
}

TEST(MetricsServer, ServesMetricsAnd404) {
  Metrics m(testing::fixture_config(1));
  testing::record_fixture_traffic(m.shard(0));
  boost::asio::io_context ioc;
  boost::system::error_code ec;
  auto server = MetricsServer::start(ioc, "127.0.0.1", 0, m, ec);
  ASSERT_TRUE(server) << ec.message();
  auto work = boost::asio::make_work_guard(ioc);
  std::thread t([&] { ioc.run(); });

  auto res = get(server->port(), "/metrics");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res[http::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(res.body().find("target_info{service_name=\"krakend-gateway\""), std::string::npos);
  EXPECT_NE(res.body().find("http_server_duration_bucket{"), std::string::npos);
  EXPECT_EQ(get(server->port(), "/other").result(), http::status::not_found);

  {  // A 64 KiB trailer field (Beast's fields throw for it) ends that connection, not the process.
    boost::asio::io_context client;
    boost::asio::ip::tcp::socket s(client);
    s.connect({boost::asio::ip::make_address("127.0.0.1"), server->port()});
    boost::asio::write(
        s, boost::asio::buffer("GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "0\r\nX-T: " +
                               std::string(70000, 'a') + "\r\n\r\n"));
    char byte;
    boost::system::error_code read_ec;
    s.read_some(boost::asio::buffer(&byte, 1), read_ec);  // the server closes without an answer
    EXPECT_TRUE(read_ec);
  }
  EXPECT_EQ(get(server->port(), "/metrics").result(), http::status::ok) << "still serving";

  // A second server on the same port fails cleanly.
  boost::system::error_code ec2;
  EXPECT_FALSE(MetricsServer::start(ioc, "127.0.0.1", server->port(), m, ec2));
  EXPECT_TRUE(ec2);

  server->stop();
  work.reset();
  ioc.stop();
  t.join();
}

}  // namespace
}  // namespace gw::telemetry

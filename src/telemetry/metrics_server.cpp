#include "telemetry/metrics_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "httpio/httpio.h"

namespace gw::telemetry {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct MetricsServer::State {
  State(asio::io_context& ioc, const Metrics& m) : acceptor(ioc), metrics(m) {}
  tcp::acceptor acceptor;
  const Metrics& metrics;
  std::uint16_t port = 0;
};

namespace {

asio::awaitable<void> serve(beast::tcp_stream stream, std::shared_ptr<MetricsServer::State> st) {
  beast::flat_buffer buf;
  for (;;) {
    stream.expires_after(std::chrono::seconds(30));
    http::request_parser<http::empty_body> parser;
    parser.header_limit(16 * 1024);
    // httpio: a scraper (anyone who reaches the port) must not abort the process with a 64 KiB field.
    if (co_await httpio::read(stream, buf, parser)) break;
    const auto& req = parser.get();
    std::string_view target = req.target();
    target = target.substr(0, target.find('?'));
    http::response<http::string_body> res;
    res.version(req.version());
    res.keep_alive(req.keep_alive());
    const bool get = req.method() == http::verb::get || req.method() == http::verb::head;
    if (get && target == "/metrics") {
      res.result(http::status::ok);
      res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      res.body() = st->metrics.scrape();
    } else {
      res.result(http::status::not_found);
      res.set(http::field::content_type, "text/plain; charset=utf-8");
      res.body() = "404 page not found";
    }
    res.prepare_payload();
    if (req.method() == http::verb::head) res.body().clear();
    auto [wec, __] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
    if (wec || !res.keep_alive()) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> accept_loop(std::shared_ptr<MetricsServer::State> st) {
  for (;;) {
    auto [ec, sock] = co_await st->acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (!st->acceptor.is_open()) co_return;
      continue;  // e.g. EMFILE: keep serving
    }
    asio::co_spawn(st->acceptor.get_executor(), serve(beast::tcp_stream(std::move(sock)), st),
                   asio::detached);
  }
}

}  // namespace

std::unique_ptr<MetricsServer> MetricsServer::start(asio::io_context& ioc, const std::string& host,
                                                    std::uint16_t port, const Metrics& metrics,
                                                    boost::system::error_code& ec) {
  auto st = std::make_shared<State>(ioc, metrics);
  auto addr = asio::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
  if (ec) return nullptr;
  tcp::endpoint ep(addr, port);
  st->acceptor.open(ep.protocol(), ec);
  if (!ec) st->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) st->acceptor.bind(ep, ec);
  if (!ec) st->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return nullptr;
  st->port = st->acceptor.local_endpoint().port();
  asio::co_spawn(ioc, accept_loop(st), asio::detached);
  return std::unique_ptr<MetricsServer>(new MetricsServer(st));
}

MetricsServer::~MetricsServer() { stop(); }

std::uint16_t MetricsServer::port() const { return state_->port; }

void MetricsServer::stop() {
  // Close on the io_context's thread: acceptor operations are not thread-safe.
  asio::post(state_->acceptor.get_executor(), [st = state_] {
    boost::system::error_code ignored;
    st->acceptor.close(ignored);
  });
}

}  // namespace gw::telemetry

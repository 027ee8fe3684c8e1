// A stand-in for the Datadog agent / OTLP collector on 127.0.0.1: records requests, answers with a
// canned body, or (mode hang) accepts and never answers.
#pragma once

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace gw::telemetry::testing {

class Receiver {
 public:
  // respond: one request per connection, answered with Connection: close. keep_alive: HTTP/1.1
  // keep-alive, many requests per connection. drop_idle: answers as if keeping the connection alive,
  // then closes it (an agent's idle timeout firing between two flushes). hang: accepts, never answers.
  enum class Mode { respond, keep_alive, drop_idle, hang };
  using Request = boost::beast::http::request<boost::beast::http::string_body>;

  explicit Receiver(Mode mode = Mode::respond, std::string reply = "{}")
      : mode_(mode),
        reply_(std::move(reply)),
        acceptor_(ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] { run(); });
  }
  ~Receiver() {
    stop_ = true;
    // Wake the blocking accept by connecting once; only then touch the acceptor from this thread.
    boost::system::error_code ec;
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::socket s(ioc);
    s.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ec);
    thread_.join();
    acceptor_.close(ec);
  }
  std::uint16_t port() const { return port_; }
  std::size_t connections() const { return connections_.load(); }

  // Waits up to `timeout` for at least n requests.
  std::vector<Request> wait_for(std::size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lk(m_);
    cv_.wait_for(lk, timeout, [&] { return requests_.size() >= n; });
    return requests_;
  }

 private:
  void run() {
    namespace http = boost::beast::http;
    while (!stop_) {
      boost::asio::ip::tcp::socket sock(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(sock, ec);
      if (ec || stop_) break;
      ++connections_;
      if (mode_ == Mode::hang) {
        held_.push_back(std::move(sock));  // never read, never answer
        continue;
      }
      boost::beast::flat_buffer buf;
      for (;;) {
        Request req;
        http::read(sock, buf, req, ec);
        if (ec || stop_) break;
        {
          std::lock_guard g(m_);
          requests_.push_back(req);
        }
        cv_.notify_all();
        http::response<http::string_body> res{http::status::ok, 11};
        res.set(http::field::content_type, "application/json");
        res.body() = reply_;
        res.keep_alive(mode_ != Mode::respond);
        res.prepare_payload();
        http::write(sock, res, ec);
        if (ec || mode_ != Mode::keep_alive) break;
      }
    }
  }

  Mode mode_;
  std::string reply_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = acceptor_.local_endpoint().port();
  std::vector<boost::asio::ip::tcp::socket> held_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> connections_{0};
  std::mutex m_;
  std::condition_variable cv_;
  std::vector<Request> requests_;
  std::thread thread_;
};

}  // namespace gw::telemetry::testing

#include "server/server.h"

#include <sys/socket.h>

#include <array>
#include <ctime>
#include <list>
#include <mutex>
#include <system_error>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>

namespace gw::server {

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
using tcp = asio::ip::tcp;

// Sessions of one worker, so a drain can close the idle ones.
struct Session {
  beast::tcp_stream* stream = nullptr;
  bool busy = false;
};

struct WorkerState {
  std::list<Session> sessions;
  std::unique_ptr<tcp::acceptor> acceptor;
};

std::atomic<std::size_t> g_connections{0};

}  // namespace

std::string_view Worker::http_date() {
  const std::time_t now = std::time(nullptr);
  if (now != date_second_) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[64];
    std::size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    date_.assign(buf, n);
    date_second_ = now;
  }
  return date_;
}

std::string_view reason(unsigned status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Request Entity Too Large";
    case 414: return "Request URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return http::obsolete_reason(static_cast<http::status>(status));
  }
}

std::string response_head(Worker& worker, unsigned status, std::string_view header_lines, long long body_size,
                          bool keep_alive) {
  std::string head;
  head.reserve(160 + header_lines.size());
  head += "HTTP/1.1 ";
  head += std::to_string(status);
  head += ' ';
  head += reason(status);
  head += "\r\nDate: ";
  head += worker.http_date();
  head += "\r\n";
  head += header_lines;
  if (body_size >= 0) {
    head += "Content-Length: ";
    head += std::to_string(body_size);
    head += "\r\n";
  } else {
    head += "Transfer-Encoding: chunked\r\n";
  }
  if (!keep_alive) head += "Connection: close\r\n";
  head += "\r\n";
  return head;
}

asio::awaitable<bool> write_response(Exchange& ex, unsigned status, std::string_view header_lines,
                                     std::string_view body) {
  if (ex.worker.draining.load(std::memory_order_relaxed)) ex.keep_alive = false;
  // 1xx/204/304 carry no body and no Content-Length.
  const bool bodiless = status < 200 || status == 204 || status == 304;
  std::string head = response_head(ex.worker, status, header_lines, bodiless ? -2 : static_cast<long long>(body.size()),
                                   ex.keep_alive);
  if (bodiless) {
    // response_head wrote "Transfer-Encoding: chunked" for a negative size: drop it.
    auto pos = head.find("Transfer-Encoding: chunked\r\n");
    head.erase(pos, 28);
    body = {};
  }
  if (ex.request.method() == http::verb::head) body = {};
  ex.status = static_cast<int>(status);
  ex.stream.expires_after(std::chrono::seconds(60));
  std::array<asio::const_buffer, 2> buffers{asio::buffer(head), asio::buffer(body)};
  auto [ec, n] = co_await asio::async_write(ex.stream, buffers, use_tuple);
  ex.bytes_written += body.size();
  co_return !ec;
}

struct Server::Impl {
  Options options;
  std::shared_ptr<Handler> handler;
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::unique_ptr<WorkerState>> states;
  asio::io_context signals_io{1};
  std::atomic<bool> stopping{false};

  asio::awaitable<void> session(Worker& worker, WorkerState& state, tcp::socket socket);
  asio::awaitable<void> accept_loop(Worker& worker, WorkerState& state);
  void drain(Worker& worker, WorkerState& state);
};

namespace {

// Minimal error response sent before closing a connection whose request could not be read.
asio::awaitable<void> reject(Worker& worker, beast::tcp_stream& stream, unsigned status, std::string_view body) {
  std::string head = response_head(worker, status, "Content-Type: text/plain; charset=utf-8\r\n",
                                   static_cast<long long>(body.size()), false);
  std::array<asio::const_buffer, 2> buffers{asio::buffer(head), asio::buffer(body)};
  stream.expires_after(std::chrono::seconds(5));
  co_await asio::async_write(stream, buffers, use_tuple);
}

// Sends the 100 Continue interim response clients wait for before sending a body.
using RequestParser = http::request_parser<http::string_body, FieldAllocator>;

bool expects_continue(const RequestParser& parser) {
  auto it = parser.get().find(http::field::expect);
  return it != parser.get().end() && beast::iequals(it->value(), "100-continue");
}

}  // namespace

asio::awaitable<void> Server::Impl::session(Worker& worker, WorkerState& state, tcp::socket socket) {
  struct Counted {
    Counted() { g_connections.fetch_add(1, std::memory_order_relaxed); }
    ~Counted() { g_connections.fetch_sub(1, std::memory_order_relaxed); }
  } counted;
  boost::system::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  auto peer = socket.remote_endpoint(ec);
  std::string peer_ip;
  if (!ec) {
    auto address = peer.address();
    // Dual-stack listeners see IPv4 clients as ::ffff:a.b.c.d; report them as a.b.c.d like Go does.
    if (address.is_v6() && address.to_v6().is_v4_mapped())
      address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    peer_ip = address.to_string();
  }
  beast::tcp_stream stream(std::move(socket));
  state.sessions.push_front(Session{&stream, false});
  auto self = state.sessions.begin();
  struct Unregister {
    std::list<Session>& list;
    std::list<Session>::iterator it;
    ~Unregister() { list.erase(it); }
  } unregister{state.sessions, self};

  const Limits& limits = options.limits;
  beast::flat_buffer buffer;
  bool first = true;
  alignas(std::max_align_t) char arena[4096];
  while (!worker.draining.load(std::memory_order_relaxed)) {
    std::pmr::monotonic_buffer_resource fields_memory(arena, sizeof arena);
    RequestParser parser(std::piecewise_construct, std::make_tuple(), std::make_tuple(FieldAllocator(&fields_memory)));
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    parser.body_limit(limits.max_body_bytes);
    self->busy = false;
    stream.expires_after(first || buffer.size() > 0 ? limits.read_header_timeout : limits.idle_timeout);
    auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
    self->busy = true;
    first = false;
    if (hec) {
      if (hec == http::error::body_limit) co_await reject(worker, stream, 413, "413 Request Entity Too Large");
      else if (hec == http::error::header_limit) co_await reject(worker, stream, 431, "431 Request Header Fields Too Large");
      else if (hec != http::error::end_of_stream && hec != asio::error::eof && hec != beast::error::timeout &&
               hec != asio::error::operation_aborted && hec != asio::error::connection_reset && parser.got_some())
        co_await reject(worker, stream, 400, "400 Bad Request");
      break;
    }
    if (parser.content_length() && *parser.content_length() > limits.max_body_bytes) {
      co_await reject(worker, stream, 413, "413 Request Entity Too Large");
      break;
    }
    if (!parser.is_done()) {
      if (expects_continue(parser)) {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        stream.expires_after(limits.read_timeout);
        co_await asio::async_write(stream, asio::buffer(kContinue), use_tuple);
      }
      stream.expires_after(limits.read_timeout);
      auto [bec, bn] = co_await http::async_read(stream, buffer, parser, use_tuple);
      if (bec) {
        if (bec == http::error::body_limit) co_await reject(worker, stream, 413, "413 Request Entity Too Large");
        else if (bec != beast::error::timeout && bec != asio::error::eof && bec != http::error::end_of_stream &&
                 bec != asio::error::connection_reset)
          co_await reject(worker, stream, 400, "400 Bad Request");
        break;
      }
    }
    stream.expires_never();
    auto request = parser.release();
    Exchange ex{request, stream, worker, peer_ip, Clock::now(), request.keep_alive()};
    bool usable = co_await handler->handle(ex);
    if (!usable || !ex.keep_alive) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.close();
}

asio::awaitable<void> Server::Impl::accept_loop(Worker& worker, WorkerState& state) {
  while (true) {
    auto [ec, socket] = co_await state.acceptor->async_accept(use_tuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !state.acceptor->is_open()) co_return;
      // EMFILE and friends: back off briefly instead of spinning.
      asio::steady_timer t(worker.io, std::chrono::milliseconds(10));
      co_await t.async_wait(use_tuple);
      continue;
    }
    if (g_connections.load(std::memory_order_relaxed) >= options.limits.max_connections) continue;  // closes it
    asio::co_spawn(worker.io, session(worker, state, std::move(socket)), asio::detached);
  }
}

void Server::Impl::drain(Worker& worker, WorkerState& state) {
  worker.draining = true;
  boost::system::error_code ec;
  if (state.acceptor) state.acceptor->close(ec);
  for (auto& s : state.sessions)
    if (!s.busy) s.stream->socket().cancel(ec);
}

Server::Server(Options options, std::shared_ptr<Handler> handler) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
  unsigned n = impl_->options.workers ? impl_->options.workers : std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < n; ++i) {
    impl_->workers.push_back(std::make_unique<Worker>(i));
    impl_->states.push_back(std::make_unique<WorkerState>());
  }
}

Server::~Server() {
  // Order matters after a hard stop: coroutine frames still parked in an io_context unregister
  // their sessions when destroyed, so the session lists must outlive the io_contexts.
  for (auto& st : impl_->states) st->acceptor.reset();
  impl_->workers.clear();
  impl_->states.clear();
}

void Server::bind() {
  const auto& o = impl_->options;
  boost::system::error_code ec;
  tcp::endpoint endpoint;
  if (o.listen_ip.empty()) {
    endpoint = tcp::endpoint(tcp::v6(), o.port);
  } else {
    endpoint = tcp::endpoint(asio::ip::make_address(o.listen_ip), o.port);
  }
  unsigned short port = o.port;
  for (std::size_t i = 0; i < impl_->workers.size(); ++i) {
    auto acceptor = std::make_unique<tcp::acceptor>(impl_->workers[i]->io);
    auto ep = endpoint;
    ep.port(port);
    acceptor->open(ep.protocol(), ec);
    if (ec && o.listen_ip.empty()) {  // no IPv6 on this host: fall back to IPv4 any
      ep = tcp::endpoint(tcp::v4(), port);
      acceptor->open(ep.protocol(), ec);
    }
    if (ec) throw std::system_error(ec, "listen: open socket");
    if (ep.protocol() == tcp::v6()) acceptor->set_option(asio::ip::v6_only(false), ec);
    acceptor->set_option(tcp::acceptor::reuse_address(true));
    int one = 1;
    ::setsockopt(acceptor->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    acceptor->bind(ep, ec);
    if (ec) throw std::system_error(ec, "listen tcp " + (o.listen_ip.empty() ? std::string() : o.listen_ip) + ":" +
                                            std::to_string(port));
    acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw std::system_error(ec, "listen");
    port = acceptor->local_endpoint().port();  // port 0: every worker shares the first one's port
    impl_->states[i]->acceptor = std::move(acceptor);
  }
  bound_port_ = port;
}

void Server::stop() {
  asio::post(impl_->signals_io, [this] { impl_->stopping = true; impl_->signals_io.stop(); });
}

int Server::run() {
  if (!bound_port_) bind();
  auto& impl = *impl_;
  std::vector<std::thread> threads;
  std::vector<std::unique_ptr<std::atomic<bool>>> finished;
  for (std::size_t i = 0; i < impl.workers.size(); ++i) {
    Worker& w = *impl.workers[i];
    WorkerState& st = *impl.states[i];
    impl.handler->attach(w);
    asio::co_spawn(w.io, impl.accept_loop(w, st), asio::detached);
    finished.push_back(std::make_unique<std::atomic<bool>>(false));
    threads.emplace_back([&w, done = finished.back().get()] {
      w.io.run();
      done->store(true);
    });
  }

  asio::signal_set signals(impl.signals_io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec) impl.stopping = true;
  });
  impl.signals_io.run();
  signals.cancel();

  for (std::size_t i = 0; i < impl.workers.size(); ++i) {
    Worker& w = *impl.workers[i];
    WorkerState& st = *impl.states[i];
    asio::post(w.io, [&impl, &w, &st] { impl.drain(w, st); });
  }
  const auto wait = impl.options.max_shutdown_wait;
  const auto deadline = wait.count() > 0 ? Clock::now() + wait : Clock::time_point::max();
  bool clean = true;
  for (;;) {
    bool all = true;
    for (auto& f : finished) all = all && f->load();
    if (all) break;
    if (Clock::now() >= deadline) {
      clean = false;
      for (auto& w : impl.workers) w->io.stop();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (auto& t : threads) t.join();
  return clean ? 0 : 1;
}

}  // namespace gw::server
